package credential

import "golang.org/x/sys/unix"

// lowerThreadPriority raises the nice value of the calling thread (only
// that thread: PRIO_PROCESS with a thread id) to at least nice. Raising it
// needs no privilege; failing to is harmless, so errors are ignored.
func lowerThreadPriority(nice int) {
	tid := unix.Gettid()
	// The system call returns 20 - nice.
	if p, err := unix.Getpriority(unix.PRIO_PROCESS, tid); err == nil && 20-p >= nice {
		return
	}
	_ = unix.Setpriority(unix.PRIO_PROCESS, tid, nice)
}
