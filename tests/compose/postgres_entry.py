"""What the official postgres image's entrypoint does, for PostgreSQL 15 run from the host's own binaries
(bind-mounted read-only into the harness image: no registry is reachable here, nothing can be pulled):
initdb on first start with POSTGRES_PASSWORD for the user postgres, password (scram) authentication from any
address, the database POSTGRES_DB created, then the server in the foreground as PID 1."""
import os
import subprocess

BIN = "/usr/lib/postgresql/15/bin"
DATA = os.environ.get("PGDATA", "/tmp/pgdata")


def initialise() -> None:
    pwfile = "/tmp/.pgpass-init"
    with open(pwfile, "w") as f:
        f.write(os.environ["POSTGRES_PASSWORD"] + "\n")
    try:
        subprocess.run([f"{BIN}/initdb", "-D", DATA, "-U", "postgres", f"--pwfile={pwfile}", "--auth-local=trust",
                        "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"], check=True,
                       stdout=subprocess.DEVNULL)
    finally:
        os.unlink(pwfile)
    with open(os.path.join(DATA, "pg_hba.conf"), "a") as f:
        f.write("host all all all scram-sha-256\n")  # clients come from other containers
    database = os.environ.get("POSTGRES_DB", "postgres")
    if database != "postgres":
        # Single-user mode: the database exists before any client can connect.
        subprocess.run([f"{BIN}/postgres", "--single", "-D", DATA, "postgres"], check=True,
                       input=f'CREATE DATABASE "{database}"\n', text=True, stdout=subprocess.DEVNULL)


def main() -> None:
    if not os.path.exists(os.path.join(DATA, "PG_VERSION")):
        initialise()
    os.execv(f"{BIN}/postgres", [f"{BIN}/postgres", "-D", DATA, "-c", "listen_addresses=*",
                                 "-c", "unix_socket_directories=/tmp"])


if __name__ == "__main__":
    main()
