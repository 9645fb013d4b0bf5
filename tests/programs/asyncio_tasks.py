"""asyncio: a main task awaits two workers; one awaits the other."""

import asyncio


async def fetch(n):
    await asyncio.sleep(0.3)
    print(f"fetched {n}")
    return n


async def combine(first):
    value = await first
    print(f"combined {value}")
    return value + 1


async def main():
    a = asyncio.create_task(fetch(1), name="fetcher")
    b = asyncio.create_task(combine(a), name="combiner")
    print(await b)


asyncio.run(main())
