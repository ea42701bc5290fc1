"""``python -m bench``: every benchmark, a table each, JSON under bench/results/."""

from bench import client_bench, emulator_bench, sync_bench

if __name__ == "__main__":
    emulator_bench.main()
    client_bench.main()
    sync_bench.main()
