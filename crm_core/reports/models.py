# Reports are read-only queries over the other apps' models; they own no tables.
