"""The command line (`gait ...`) and the local runtime: the stage services started in this process
or as child processes (`gait run`, `gait stack`), the flows run against them, and the terminal's
progress, summaries and exit codes. It sits on top: it imports the core (`gait`), the services and
the flows; nothing imports it."""
