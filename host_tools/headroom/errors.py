"""The `headroom` command line's one error type, which carries the exit code.

Exit codes, the same for every subcommand:

    0  success
    1  a problem found or a request refused: a failed expectation, a simulator fault,
       a firmware crash, the board refusing a command, a flash that did not verify or
       a firmware that did not start
    2  bad input: arguments, board file, scenario script, a file that cannot be read
       or written
    3  no board to talk to: no port, port busy (held by another program), no reply
"""
OK = 0
PROBLEM = 1
BAD_INPUT = 2
NO_BOARD = 3


class CommandError(Exception):
    """What went wrong, in words for the user, and the exit code it ends with."""

    def __init__(self, message, code=PROBLEM):
        Exception.__init__(self, message)
        self.code = code
