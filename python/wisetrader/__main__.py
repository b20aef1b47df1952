from wisetrader.cli import main

main()
