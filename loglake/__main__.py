from loglake.cli import main

main()
