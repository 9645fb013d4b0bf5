"""The mutexA / mutexB deadlock: two threads take two locks in opposite orders."""

import threading
import time

mutexA = threading.Lock()
mutexB = threading.Lock()


class MyThread(threading.Thread):
    def run(self):
        self.fun1()
        self.fun2()

    def fun1(self):
        mutexA.acquire()
        print(f"{self.name} got A")
        mutexB.acquire()
        print(f"{self.name} got B")
        mutexB.release()
        mutexA.release()

    def fun2(self):
        mutexB.acquire()
        print(f"{self.name} got B")
        time.sleep(0.2)
        mutexA.acquire()
        print(f"{self.name} got A")
        mutexA.release()
        mutexB.release()


if __name__ == "__main__":
    for _ in range(2):
        MyThread().start()
