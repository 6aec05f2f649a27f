package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// programInfo says which program was measured.
type programInfo struct {
	path     string // as given with -sitrep, or "" when built here
	revision string // git HEAD of the tree it was built from, when built here
	modified bool   // the tree had uncommitted changes
	flags    string // extra build flags
}

// programBinary builds ./cmd/sitrep into dir, or returns the binary given
// with -sitrep.
func programBinary(ctx context.Context, cfg config, dir string, logf func(string, ...any)) (string, programInfo, error) {
	if cfg.sitrep != "" {
		abs, err := filepath.Abs(cfg.sitrep)
		if err != nil {
			return "", programInfo{}, err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", programInfo{}, fmt.Errorf("-sitrep: %w", err)
		}
		return abs, programInfo{path: cfg.sitrep}, nil
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", programInfo{}, err
	}
	bin := filepath.Join(dir, "sitrep")
	args := []string{"build", "-o", bin}
	args = append(args, strings.Fields(cfg.buildFlags)...)
	args = append(args, "./cmd/sitrep")
	logf("building: go %s (in %s)", strings.Join(args, " "), root)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", programInfo{}, fmt.Errorf("go build ./cmd/sitrep: %w\n%s", err, out)
	}
	info := programInfo{flags: cfg.buildFlags}
	if out, err := gitOutput(ctx, root, "rev-parse", "--short=12", "HEAD"); err == nil {
		info.revision = out
		if status, err := gitOutput(ctx, root, "status", "--porcelain", "--untracked-files=no"); err == nil {
			info.modified = status != ""
		}
	}
	return bin, info, nil
}

// moduleRoot finds the Sitrep module from the working directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the Sitrep module: run from the repository, or pass -sitrep")
	}
	root := filepath.Dir(mod)
	if _, err := os.Stat(filepath.Join(root, "cmd", "sitrep")); err != nil {
		return "", fmt.Errorf("%s has no cmd/sitrep: run from the Sitrep repository, or pass -sitrep", root)
	}
	return root, nil
}

func gitOutput(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// process is a server running as a subprocess.
type process struct {
	name    string
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:port
	log     string // file holding its stderr
	started time.Time
	exited  chan struct{} // closed when it has exited
	waitErr error         // set before exited is closed
}

// startProcess starts bin with args and env (added to this process's
// environment minus Sitrep's and Slack's settings), in dir, serving on
// addr. Its output goes to a log file in dir.
func startProcess(name, bin, dir, addr string, args, env []string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir // away from any .env file in the repository
	cmd.Stdout, cmd.Stderr = logf, logf
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLACK_") && !strings.HasPrefix(kv, "SITREP_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	p := &process{name: name, cmd: cmd, base: "http://" + addr, log: logPath, exited: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// readyClient polls readiness. It keeps no connections, so that each poll
// is what a load balancer's first probe would be.
var readyClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
}

// waitReady polls GET /readyz until it answers 200, and returns the time
// from the process start to that answer. Polls are 0.5 ms apart, which
// bounds the error of the measurement.
func (p *process) waitReady(ctx context.Context, limit time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(limit)
	for {
		resp, err := readyClient.Get(p.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(p.started), nil
			}
		}
		select {
		case <-p.exited:
			return 0, fmt.Errorf("%s exited before it was ready (%v):\n%s", p.name, p.waitErr, p.logTail())
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(500 * time.Microsecond):
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s not ready within %s:\n%s", p.name, limit, p.logTail())
		}
	}
}

// stop sends SIGTERM and waits up to grace for the process to exit, then
// kills it. It reports how long the process took to exit and whether it had
// to be killed.
func (p *process) stop(grace time.Duration) (took time.Duration, killed bool, err error) {
	start := time.Now()
	select {
	case <-p.exited:
		return 0, false, fmt.Errorf("%s had exited already (%v):\n%s", p.name, p.waitErr, p.logTail())
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, false, err
	}
	select {
	case <-p.exited:
		took = time.Since(start)
		if p.waitErr != nil {
			return took, false, fmt.Errorf("%s exited with %v after SIGTERM:\n%s", p.name, p.waitErr, p.logTail())
		}
		return took, false, nil
	case <-time.After(grace):
	}
	p.cmd.Process.Kill()
	<-p.exited
	return time.Since(start), true, nil
}

// kill ends the process at once, if it still runs.
func (p *process) kill() {
	select {
	case <-p.exited:
	default:
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// logTail is the end of the process's output, for error messages.
func (p *process) logTail() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// memory is what /proc/<pid>/status says about a process's memory.
type memory struct {
	rss, hwm int64 // VmRSS and VmHWM (peak RSS), bytes
	threads  int
}

func (p *process) memory() (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			m.rss = n << 10
		case "VmHWM":
			m.hwm = n << 10
		case "Threads":
			m.threads = int(n)
		}
	}
	if err := sc.Err(); err != nil {
		return memory{}, err
	}
	if m.rss == 0 {
		return memory{}, fmt.Errorf("no VmRSS in /proc/%d/status", p.cmd.Process.Pid)
	}
	return m, nil
}

// freeAddr returns a loopback address with a port free at the moment.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// countInFile counts the occurrences of sub in a file.
func countInFile(path, sub string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte(sub))
}
