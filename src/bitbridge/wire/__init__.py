"""What both processes of a bridge run: the connection and the data that crosses it.

``transport`` is the rpyc classic connection over a socket only the two processes hold,
``payload`` the codec of arguments and copied results, ``shm`` the shared memory blocks
that large buffers travel through.
"""
