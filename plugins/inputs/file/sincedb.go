package file

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The sincedb remembers, per file identity, how far the file has been
// delivered. One line per file:
//
//	# gostash sincedb v1: inode major minor position last_active fingerprint_length fingerprint path
//	1837465 259 1 52311 1716800000.123 1024 9f3b5c0a1e2d4c77 /var/log/messages
//
// The first six columns are Logstash's (its sincedb files are read as
// they are: point sincedb_path at one to take over where Logstash left
// off); the fingerprint is a hash of the file's first bytes, which tells
// a file apart from a new one that got the same inode, or from the same
// file truncated and written again past the old position between two
// looks (copytruncate).

const sincedbHeader = "# gostash sincedb v1: inode major minor position last_active fingerprint_length fingerprint path"

// fileID is a file's identity: device and inode.
type fileID struct{ dev, ino uint64 }

// entry is what the sincedb keeps about one file.
type entry struct {
	pos        int64 // delivered up to here
	lastActive int64 // unix ns of the last change
	path       string
	fpLen      int // bytes the fingerprint covers; 0: none yet
	fpSum      uint64
}

// fingerprintMax is how many of a file's first bytes identify it.
const fingerprintMax = 1024

// fingerprint hashes b (a file's first bytes).
func fingerprint(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// readSincedb loads a sincedb; a missing file is an empty one. Anything
// else it cannot read (not a regular file, a line that is not a position)
// is an error: reading on from a guess would repeat or skip lines.
func readSincedb(path string) (map[fileID]*entry, error) {
	db := map[fileID]*entry{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return db, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a sincedb file (set sincedb_path to a file)", path)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	ours := false
	now := time.Now().UnixNano()
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 && strings.HasPrefix(line, "# gostash sincedb v1") {
			ours = true
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, e, err := parseSincedbLine(line, ours, now)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w (delete the file to read every file again from start_position)", path, n, err)
		}
		db[id] = e
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return db, nil
}

// parseSincedbLine reads one line, as Logstash's SincedbRecordSerializer
// does: "inode major minor position last_active path" (path optional), or
// the old "inode major minor position", whose position counts as changed
// now (so sincedb_clean_after does not forget it at once). Our own lines
// have the fingerprint before the path.
func parseSincedbLine(line string, ours bool, now int64) (fileID, *entry, error) {
	cols := 6 // Logstash: inode major minor position last_active path
	if ours {
		cols = 8
	}
	parts := strings.SplitN(line, " ", cols)
	if len(parts) < 4 {
		return fileID{}, nil, errors.New("too few columns: want inode, major, minor and position at least")
	}
	var nums [4]uint64
	for i := range nums {
		v, err := strconv.ParseUint(parts[i], 10, 64)
		if err != nil {
			return fileID{}, nil, fmt.Errorf("column %d: %w", i+1, err)
		}
		nums[i] = v
	}
	if nums[3] > math.MaxInt64 {
		return fileID{}, nil, fmt.Errorf("position %d out of range", nums[3])
	}
	id := fileID{ino: nums[0], dev: devJoin(nums[1], nums[2])}
	e := &entry{pos: int64(nums[3]), lastActive: now}
	if len(parts) == 4 {
		return id, e, nil // Logstash's old format
	}
	var ok bool
	if e.lastActive, ok = parseSeconds(parts[4]); !ok {
		return fileID{}, nil, fmt.Errorf("column 5: %q is not a time in seconds", parts[4])
	}
	rest := parts[5:]
	if ours && len(parts) == 8 {
		n, err1 := strconv.Atoi(parts[5])
		sum, err2 := strconv.ParseUint(parts[6], 16, 64)
		if err1 != nil || err2 != nil || n < 0 {
			return fileID{}, nil, errors.New("bad fingerprint")
		}
		e.fpLen, e.fpSum = n, sum
		rest = parts[7:]
	}
	if len(rest) > 0 {
		e.path = rest[0]
		if strings.HasPrefix(e.path, `"`) {
			if p, err := strconv.Unquote(e.path); err == nil {
				e.path = p
			}
		}
	}
	return id, e, nil
}

// parseSeconds reads "1700000000.123" as ns, without float rounding.
func parseSeconds(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || secs < 0 || secs > math.MaxInt64/int64(time.Second)-1 {
		return 0, false
	}
	ns := secs * 1e9
	if frac != "" {
		frac = (frac + "000000000")[:9]
		n, err := strconv.ParseInt(frac, 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		ns += n
	}
	return ns, true
}

// appendSincedb writes the entries, in path order so the file reads well.
func appendSincedb(dst []byte, db map[fileID]*entry) []byte {
	ids := make([]fileID, 0, len(db))
	for id := range db {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := db[ids[i]], db[ids[j]]
		if a.path != b.path {
			return a.path < b.path
		}
		return ids[i].ino < ids[j].ino
	})
	dst = append(dst, sincedbHeader...)
	dst = append(dst, '\n')
	for _, id := range ids {
		e := db[id]
		major, minor := devParts(id.dev)
		dst = strconv.AppendUint(dst, id.ino, 10)
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, major, 10)
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, minor, 10)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, e.pos, 10)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, e.lastActive/1e9, 10)
		dst = append(dst, '.')
		ms := e.lastActive / 1e6 % 1000
		dst = append(dst, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(e.fpLen), 10)
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, e.fpSum, 16)
		dst = append(dst, ' ')
		if strings.ContainsAny(e.path, "\n\r") || strings.HasPrefix(e.path, `"`) {
			dst = strconv.AppendQuote(dst, e.path)
		} else {
			dst = append(dst, e.path...)
		}
		dst = append(dst, '\n')
	}
	return dst
}

// writeAtomic replaces path with data: written to a temporary file beside
// it, then renamed over it, so a crash leaves the old sincedb or the new
// one, never half of one.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if errors.Is(err, os.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		}
	}
	if err != nil {
		return err
	}
	_, err = io.Copy(f, bytes.NewReader(data))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	return err
}
