"""concurrent.futures: a thread pool maps squares."""

from concurrent.futures import ThreadPoolExecutor

with ThreadPoolExecutor(max_workers=3) as pool:
    print(sorted(pool.map(lambda x: x * x, range(6))))
