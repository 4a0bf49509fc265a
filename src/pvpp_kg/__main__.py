from pvpp_kg.cli import main

main()
