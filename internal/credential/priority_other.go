//go:build !linux

package credential

// lowerThreadPriority does nothing where Gatehouse sets no thread priority.
func lowerThreadPriority(int) {}
