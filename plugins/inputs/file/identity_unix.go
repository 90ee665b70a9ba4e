//go:build unix

package file

import (
	"io/fs"
	"syscall"
)

// identify returns the file's identity: its device and inode, which a
// rename keeps and a new file at the same path does not have. links is
// its link count (0 once deleted).
func identify(fi fs.FileInfo) (id fileID, links uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, 1, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, uint64(st.Nlink), true
}

// devParts splits a Linux device number as Logstash's sincedb writes it.
func devParts(dev uint64) (major, minor uint64) {
	major = (dev>>8)&0xfff | (dev>>32)&0xfffff000
	minor = dev&0xff | (dev>>12)&0xffffff00
	return major, minor
}

func devJoin(major, minor uint64) uint64 {
	return (major&0xfff)<<8 | (major&0xfffff000)<<32 | minor&0xff | (minor&0xffffff00)<<12
}
