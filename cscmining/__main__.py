from cscmining.cli import main

main()
