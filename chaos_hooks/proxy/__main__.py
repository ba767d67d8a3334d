from chaos_hooks.proxy.main import main

main()
