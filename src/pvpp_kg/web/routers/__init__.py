"""One APIRouter per area; handlers take dependencies and make one call."""
