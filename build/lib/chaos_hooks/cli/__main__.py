from chaos_hooks.cli import main

main()
