from mamdl.cli import main

main()
