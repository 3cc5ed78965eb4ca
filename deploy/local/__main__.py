from deploy.local.cli import main

main()
