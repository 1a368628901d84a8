"""Run a command as in a container whose seccomp profile refuses Landlock (as Docker's did before 23.0):
``python no_landlock.py PROGRAM ARGS...``. The container mode must then hold by its users and file modes."""
import errno
import os
import sys

import pyseccomp as seccomp

rules = seccomp.SyscallFilter(seccomp.ALLOW)
for name in ("landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"):
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), name)
rules.load()
os.execv(sys.argv[1], sys.argv[1:])
