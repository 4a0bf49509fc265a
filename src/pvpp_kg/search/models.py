"""The JSON of ``/api/search`` and ``/api/search/suggest`` (pydantic: the OpenAPI schema is generated from these)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FacetValue(BaseModel):
    value: str = Field(description="the value to pass back as the facet's parameter")
    label: str = Field(description="its name in the requested language")
    count: int = Field(description="matching resources with this value, under the other facets' filters")
    selected: bool = False


class Facets(BaseModel):
    kind: list[FacetValue]
    institution_type: list[FacetValue]
    sector: list[FacetValue]
    lang: list[FacetValue]


class Match(BaseModel):
    text: str = Field(description="the best-matching name or description, as stored")
    field: str = Field(
        description="label | alt | hidden (a misspelling: the text is then the name) | notation | description"
    )
    langs: list[str] = Field(description="languages of the resource's matching texts")


class Result(BaseModel):
    iri: str
    page: str = Field(description="the resource's page on this server")
    label: str = Field(description="the resource's name in the requested language (or the other one)")
    label_lv: str | None = None
    label_en: str | None = None
    kind: str
    kind_label: str
    institution: str | None = Field(None, description="the institution the resource belongs to")
    institution_label: str | None = None
    institution_type: str | None = None
    sector: str | None = Field(None, description="the ministry whose sector the institution is in (key)")
    score: float = Field(
        description="exact name 1000, name starting with the query 800-900, name 600-700, "
        "other name or code 400-800, description 100-300"
    )
    match: Match


class SearchResults(BaseModel):
    query: str
    total: int = Field(description="matching resources under the facet filters")
    page: int
    size: int
    pages: int
    version: str = Field(description="the data version searched")
    results: list[Result]
    facets: Facets


class Suggestion(BaseModel):
    label: str
    iri: str
    page: str
    kind: str
    kind_label: str
    match: str = Field(description="the text that matched (may be another name or a code)")


class Suggestions(BaseModel):
    query: str
    suggestions: list[Suggestion]
