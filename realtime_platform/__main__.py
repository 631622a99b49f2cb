from realtime_platform.cli import main

main()
