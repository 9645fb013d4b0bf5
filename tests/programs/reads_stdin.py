"""input() with stdin closed: EOFError, as Python would."""

try:
    input("name? ")
except EOFError:
    print("no input: EOF")
