"""PostgreSQL: the pool and the embedded server, migrations, the service's database,
backups and the hash chain's verification."""
