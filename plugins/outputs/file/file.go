// Package file is the file output: it appends events to files whose path
// is a sprintf template, as Logstash's file output does, and acks a batch
// only once it is written to the operating system (and fsynced when
// asked), so a crash can repeat lines but never lose them.
package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gostash/gostash/sdk"
	"github.com/gostash/gostash/sdk/codecs"
)

var spec = sdk.NewSpec("Appends events to files; the path may use event fields and dates.").
	Field(sdk.String("path").Required().
		Doc("The file to write, a sprintf template: an absolute path, such as \"/var/log/out/%{+YYYY-MM-dd}/%{[host][name]}.log\" (`%{+...}` formats @timestamp in UTC). Directories are created. A path made of event fields that leads outside the directory before the first %{...} goes to `filename_failure` there instead.")).
	Field(sdk.String("codec").Default("json_lines").OneOf("json_lines", "line").
		Doc("`json_lines`: each event as one JSON object a line (without @metadata); `line`: the `format` template a line.")).
	Field(sdk.String("format").Default("%{message}").
		Doc("The line codec's sprintf template.")).
	Field(sdk.Bool("create_if_deleted").Default(true).
		Doc("A file deleted (or renamed away) while open is created again; when false, events for it go to `filename_failure`.")).
	Field(sdk.String("dir_mode").
		Doc("Permissions of created directories, in octal (\"0750\"); by default 0777 less the umask.")).
	Field(sdk.String("file_mode").
		Doc("Permissions of created files, in octal (\"0640\"); by default 0666 less the umask.")).
	Field(sdk.Bool("fsync").Default(false).
		Doc("Flush each batch to the disk before acknowledging it, so it survives a power loss too (slower). Without it a batch is acknowledged once the operating system has it, which a crash of gostash cannot lose.")).
	Field(sdk.String("filename_failure").Default("_filepath_failures").
		Doc("Where events go whose path leads outside the path's fixed directory, as a file name in that directory.")).
	Field(sdk.Duration("stale_cleanup_interval").Default("10s").
		Doc("Files not written for this long are closed (they are opened again when needed)."))

func init() {
	sdk.RegisterOutput("file", spec, New).WithValidate(validate)
}

type settings struct {
	path       *sdk.Template
	root       string // the directory before the first %{...}
	dynamic    bool   // the path uses event fields
	failure    string
	format     *sdk.Template
	json       bool
	recreate   bool
	dirMode    os.FileMode
	fileMode   os.FileMode
	fsync      bool
	staleAfter time.Duration
}

func parse(c *sdk.Config) (*settings, sdk.Diagnostics) {
	var ds sdk.Diagnostics
	s := &settings{json: c.String("codec") != "line", recreate: c.Bool("create_if_deleted"), fsync: c.Bool("fsync"),
		staleAfter: c.Duration("stale_cleanup_interval"), dirMode: 0o777, fileMode: 0o666}
	raw := c.String("path")
	var err error
	if s.path, err = sdk.ParseTemplate(raw); err != nil {
		ds.Errorf([]string{"path"}, "invalid path: %v", err)
	}
	if raw != "" && !filepath.IsAbs(raw) {
		ds.Errorf([]string{"path"}, "path %q is relative: give an absolute path, such as %q", raw, "/var/log/out/"+filepath.Base(raw))
	}
	fixed := raw
	if i := strings.Index(raw, "%{"); i >= 0 {
		fixed = raw[:i]
		s.dynamic = strings.Contains(raw[i:], "%{") && hasFieldRef(raw[i:])
	}
	s.root = filepath.Dir(fixed + "x") // "/a/b/" → "/a/b", "/a/b%{x}" → "/a"
	name := c.String("filename_failure")
	if name == "" || strings.ContainsAny(name, `/\`) {
		ds.Errorf([]string{"filename_failure"}, "filename_failure must be a file name (no directory), such as \"_filepath_failures\"")
	}
	s.failure = filepath.Join(s.root, name)
	if s.format, err = sdk.ParseTemplate(c.String("format")); err != nil {
		ds.Errorf([]string{"format"}, "invalid format: %v", err)
	}
	if c.Has("format") && s.json && c.String("format") != "%{message}" {
		ds = append(ds, sdk.Diagnostic{Warning: true, Path: []string{"format"},
			Summary: "format is used by the line codec only", Detail: `set codec = "line" to write with it`})
	}
	for _, m := range []struct {
		name string
		into *os.FileMode
	}{{"dir_mode", &s.dirMode}, {"file_mode", &s.fileMode}} {
		if v := c.String(m.name); v != "" {
			n, err := strconv.ParseUint(v, 8, 32)
			if err != nil || n > 0o7777 {
				ds.Errorf([]string{m.name}, "%s must be octal permissions such as \"0640\", not %q", m.name, v)
				continue
			}
			*m.into = os.FileMode(n)
		}
	}
	if s.staleAfter <= 0 {
		ds.Errorf([]string{"stale_cleanup_interval"}, "stale_cleanup_interval must be more than 0")
	}
	return s, ds
}

// hasFieldRef reports whether a template part refers to event fields (a
// date alone cannot lead outside the root).
func hasFieldRef(s string) bool {
	for {
		i := strings.Index(s, "%{")
		if i < 0 {
			return false
		}
		s = s[i+2:]
		if !strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "{") {
			return true
		}
	}
}

func validate(c *sdk.Config) sdk.Diagnostics {
	_, ds := parse(c)
	return ds
}

// Output is the file output.
type Output struct {
	set    *settings
	logger sdk.Logger

	mu        sync.Mutex // Write may be called from several streams
	enc       codecs.JSONEncoder
	pathBuf   []byte
	groups    map[string]*group
	order     []*group
	files     map[string]*openFile
	warned    map[string]bool // paths whose loss was logged
	lastClean time.Time
}

// group is one batch's bytes for one file, and which events they hold.
type group struct {
	path   string
	buf    []byte
	events []int // indexes in the batch
	ends   []int // where each event's line ends in buf
	err    error // the path can be no file: its events are rejected
}

type openFile struct {
	f        *os.File
	info     os.FileInfo
	lastUsed time.Time
}

// New builds a file output from its settings; files are opened as events
// need them.
func New(_ context.Context, c *sdk.Config, env sdk.Env) (sdk.Output, error) {
	set, ds := parse(c)
	if err := ds.Err(); err != nil {
		return nil, err
	}
	return &Output{set: set, logger: env.Logger, groups: map[string]*group{}, files: map[string]*openFile{}, warned: map[string]bool{}, lastClean: time.Now()}, nil
}

// Write appends the batch, one write call per file, and returns once the
// operating system has every byte (and, with fsync, the disk). Outcomes
// are per event (sdk.WriteError): an event whose path can never be a file
// (a directory, a NUL byte, a name over 255 bytes) is rejected alone, to
// be dead-lettered; a file that fails for a reason that may pass (disk
// full, an I/O error, permissions) has its events retried; every other
// event is written once, whatever happened to the others.
func (o *Output) Write(_ context.Context, events []*sdk.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, e := range events {
		g := o.group(e)
		if o.set.json {
			g.buf = o.enc.AppendEvent(g.buf, e)
		} else {
			g.buf = o.set.format.AppendRender(g.buf, e)
		}
		g.buf = append(g.buf, '\n')
		g.events = append(g.events, i)
		g.ends = append(g.ends, len(g.buf))
	}
	var werr *sdk.WriteError
	for _, g := range o.order {
		n, err := 0, g.err
		if err == nil {
			n, err = o.write(g.path, g.buf)
		}
		if err != nil {
			if werr == nil {
				werr = &sdk.WriteError{}
			}
			reject := permanent(err)
			if reject {
				o.logger.Warn("an event's path cannot be a file; rejecting its events", "path", g.path, "events", len(g.events), "error", err)
			} else {
				o.logger.Warn("cannot write a file; its events will be retried", "path", g.path, "events", len(g.events), "error", err)
			}
			for j, i := range g.events {
				switch {
				case g.ends[j] <= n:
					// Written before the error: retrying it would repeat it.
				case reject:
					werr.RejectItem(i, err.Error())
				default:
					werr.Retry(i, 0, err.Error())
				}
			}
		}
		if cap(g.buf) > 4<<20 {
			g.buf = nil // one odd batch made it huge: let it go
		} else {
			g.buf = g.buf[:0]
		}
		g.events, g.ends = g.events[:0], g.ends[:0]
	}
	o.order = o.order[:0]
	if now := time.Now(); now.Sub(o.lastClean) >= o.set.staleAfter {
		o.closeStale(now)
		o.lastClean = now
	}
	if werr != nil {
		return werr
	}
	return nil
}

// permanent reports whether a failure to open a path is the event's, not
// the destination's: retrying it can never succeed. Anything else (disk
// full, I/O errors, permissions, too many open files, any failure to
// write or fsync a file that opened) may pass, or be fixed by an
// operator, so it is retried rather than dead-lettered.
func permanent(err error) bool {
	if errors.Is(err, errBadPath) {
		return true
	}
	var pe *os.PathError
	if !errors.As(err, &pe) || (pe.Op != "open" && pe.Op != "mkdir" && pe.Op != "stat") {
		return false
	}
	return errors.Is(err, syscall.EISDIR) || // "/out/%{n}" with n empty is the directory
		errors.Is(err, syscall.ENAMETOOLONG) ||
		errors.Is(err, syscall.ENOTDIR) || // a path component is a file
		errors.Is(err, syscall.EINVAL) // a NUL byte; a name the file system refuses
}

var errBadPath = errors.New("not a file path")

// group returns the buffer for e's file.
func (o *Output) group(e *sdk.Event) *group {
	o.pathBuf = o.set.path.AppendRender(o.pathBuf[:0], e)
	g, ok := o.groups[string(o.pathBuf)]
	if !ok {
		path := o.resolve(string(o.pathBuf))
		if err := notAFile(string(o.pathBuf)); err != nil && path != o.set.failure {
			path = string(o.pathBuf) // on its own: it is no file's name
			g = &group{path: path, err: err}
		} else if g, ok = o.groups[path]; !ok {
			g = &group{path: path}
			o.groups[path] = g
		}
		o.groups[string(o.pathBuf)] = g
		if len(o.groups) > 4096 {
			clear(o.groups) // many dated paths over time: start over
			o.groups[path] = g
		}
	}
	if len(g.buf) == 0 {
		o.order = append(o.order, g)
	}
	return g
}

// notAFile rejects a rendered path that names a directory: an empty
// field at its end ("/out/%{n}" → "/out/"), or "." or "..". Opened, it
// would fail, or worse, create a file where the output's directory goes.
func notAFile(path string) error {
	base := path[strings.LastIndexByte(path, '/')+1:]
	if base == "" || base == "." || base == ".." {
		return fmt.Errorf("%w: %q ends in a directory (is a field in the path empty?)", errBadPath, path)
	}
	return nil
}

// resolve checks a rendered path: one that event fields made lead outside
// the fixed directory goes to the failure file, as in Logstash.
func (o *Output) resolve(path string) string {
	clean := filepath.Clean(path)
	if o.set.dynamic && clean != o.set.root && !strings.HasPrefix(clean, o.set.root+string(filepath.Separator)) {
		o.logger.Warn("an event's path leads outside the output directory; writing it to the failure file", "path", path, "failure_file", o.set.failure)
		return o.set.failure
	}
	return clean
}

// write appends data to path. On an error, n says how many bytes of data
// were written all the same.
func (o *Output) write(path string, data []byte) (n int, err error) {
	f, err := o.open(path)
	if err != nil {
		return 0, err
	}
	if n, err = f.f.Write(data); err != nil {
		o.close(path) // opened again next time, after ending a torn line
		return n, fmt.Errorf("write %s: %w", path, err)
	}
	if o.set.fsync {
		if err := f.f.Sync(); err != nil {
			o.close(path)
			return 0, fmt.Errorf("fsync %s: %w", path, err)
		}
	}
	f.lastUsed = time.Now()
	return n, nil
}

// open returns the file for path, opening (or, when it was deleted or
// renamed away, creating) it as needed.
func (o *Output) open(path string) (*openFile, error) {
	if f := o.files[path]; f != nil {
		st, err := os.Stat(path)
		if err == nil && os.SameFile(st, f.info) {
			return f, nil
		}
		if !o.set.recreate && path != o.set.failure {
			if !o.warned[path] {
				o.logger.Warn("file deleted or renamed while open and create_if_deleted is false; writing to the failure file", "path", path, "failure_file", o.set.failure)
				o.warned[path] = true
			}
			return o.open(o.set.failure)
		}
		o.logger.Info("file deleted or renamed while open; creating it again", "path", path)
		o.close(path)
	}
	if err := os.MkdirAll(filepath.Dir(path), o.set.dirMode); err != nil {
		return nil, fmt.Errorf("create directory for %s: %w", path, err)
	}
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, o.set.fileMode)
	if err != nil {
		return nil, err // "open <path>: <why>" already
	}
	info, err := fh.Stat()
	if err == nil {
		err = endLine(fh, info.Size())
	}
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f := &openFile{f: fh, info: info, lastUsed: time.Now()}
	o.files[path] = f
	return f, nil
}

// endLine ends a line left unfinished by a crash mid-write, so the next
// line does not run into it.
func endLine(f *os.File, size int64) error {
	if size == 0 {
		return nil
	}
	last := make([]byte, 1)
	r, err := os.Open(f.Name())
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := r.ReadAt(last, size-1); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if last[0] != '\n' {
		_, err = f.Write([]byte{'\n'})
	}
	return err
}

func (o *Output) close(path string) {
	if f := o.files[path]; f != nil {
		f.f.Close()
		delete(o.files, path)
	}
}

func (o *Output) closeStale(now time.Time) {
	for path, f := range o.files {
		if now.Sub(f.lastUsed) >= o.set.staleAfter {
			o.close(path)
		}
	}
}

// Close closes every file.
func (o *Output) Close(context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var first error
	for path, f := range o.files {
		if o.set.fsync {
			if err := f.f.Sync(); err != nil && first == nil {
				first = err
			}
		}
		if err := f.f.Close(); err != nil && first == nil {
			first = err
		}
		delete(o.files, path)
	}
	return first
}
