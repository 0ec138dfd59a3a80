package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// clockThreadCPUTimeID is Linux's CLOCK_THREAD_CPUTIME_ID.
const clockThreadCPUTimeID = 3

// threadCPU returns the calling thread's CPU time
// (clock_gettime(CLOCK_THREAD_CPUTIME_ID), nanoseconds from the
// scheduler's own accounting), and false if the call failed.
func threadCPU() (time.Duration, bool) {
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}

// mapWords maps n uint32 words of anonymous memory off the Go heap (so
// that the probe's buffer changes neither the collector's pacing nor what
// it marks), and returns them and a function that unmaps them.
func mapWords(n int) ([]uint32, func(), error) {
	b, err := syscall.Mmap(-1, 0, 4*n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, err
	}
	w := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(b))), n)
	return w, func() { _ = syscall.Munmap(b) }, nil
}

// userHZ is the unit of /proc/stat's times: USER_HZ, 100 on every Linux
// architecture Go runs on.
const userHZ = 100

// readMachine returns the machine's CPU time so far over all its CPUs,
// from /proc/stat's "cpu" line: busy (user, nice, system, irq, softirq),
// idle (idle and iowait) and steal; ok false if it cannot be read.
func readMachine() (m machineCPU, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return m, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) < 9 || string(f[0]) != "cpu" {
			continue
		}
		var v [8]int64
		for i := range v {
			if v[i], err = strconv.ParseInt(string(f[i+1]), 10, 64); err != nil {
				return m, false
			}
		}
		tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / userHZ }
		m.Busy = tick(v[0] + v[1] + v[2] + v[5] + v[6])
		m.Idle = tick(v[3] + v[4])
		m.Steal = tick(v[7])
		return m, true
	}
	return m, false
}
