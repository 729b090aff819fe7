from mamdl.entry import main

main()
