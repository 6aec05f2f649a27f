package sitrep_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

// This machine has no Docker engine, and CI has none either, so these tests
// take the Dockerfile apart and do what its build and its HEALTHCHECK would
// do, with the commands written there rather than copies of them.

const dockerfilePath = "Dockerfile"

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line  int    // where it starts
	cmd   string // upper case: RUN, COPY, ...
	flags map[string]string
	args  string // what follows the flags
}

// stage is one FROM and the instructions after it.
type stage struct {
	from, name string
	instrs     []instruction
}

// parseDockerfile reads a Dockerfile as Docker does for what these tests
// need: comment lines are dropped (also inside a continued instruction),
// a trailing backslash continues an instruction on the next line, and
// leading --name=value words are flags.
func parseDockerfile(t *testing.T, file string) []stage {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var stages []stage
	var buf strings.Builder
	start := 0
	add := func() {
		text := strings.TrimSpace(buf.String())
		buf.Reset()
		if text == "" {
			return
		}
		cmd, rest, _ := strings.Cut(text, " ")
		in := instruction{line: start, cmd: strings.ToUpper(cmd), flags: map[string]string{}}
		rest = strings.TrimSpace(rest)
		for strings.HasPrefix(rest, "--") {
			var flag string
			flag, rest, _ = strings.Cut(rest, " ")
			rest = strings.TrimSpace(rest)
			name, value, _ := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
			in.flags[name] = value
		}
		in.args = rest
		if in.cmd == "FROM" {
			words := strings.Fields(in.args)
			st := stage{from: words[0]}
			if len(words) == 3 && strings.EqualFold(words[1], "AS") {
				st.name = words[2]
			}
			stages = append(stages, st)
			return
		}
		if len(stages) == 0 {
			if in.cmd == "ARG" {
				return // a global ARG before the first FROM
			}
			t.Fatalf("%s:%d: %s before the first FROM", file, in.line, in.cmd)
		}
		s := &stages[len(stages)-1]
		s.instrs = append(s.instrs, in)
	}

	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if buf.Len() == 0 {
			if strings.TrimSpace(line) == "" {
				continue
			}
			start = n
		}
		if cont, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), `\`); ok {
			buf.WriteString(cont + " ")
			continue
		}
		buf.WriteString(line)
		add()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 0 {
		t.Fatalf("%s: the last instruction ends in a backslash", file)
	}
	return stages
}

// all returns the stage's instructions of one kind.
func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// last returns the stage's last instruction of one kind, the one in force.
func (s stage) last(t *testing.T, cmd string) instruction {
	t.Helper()
	all := s.all(cmd)
	if len(all) == 0 {
		t.Fatalf("%s: the stage FROM %s has no %s", dockerfilePath, s.from, cmd)
	}
	return all[len(all)-1]
}

// execForm parses a JSON array argument (["a", "b"]).
func execForm(t *testing.T, in instruction, args string) []string {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil || len(argv) == 0 {
		t.Fatalf("%s:%d: %s %s is not in exec form (a JSON array of strings); distroless has no shell to run the shell form", dockerfilePath, in.line, in.cmd, args)
	}
	return argv
}

// env returns the variables the stage sets with ENV and ARG (ARG's
// defaults), in force at its last instruction, as a RUN command would see
// them. Values may refer to variables set before them.
func (s stage) env(t *testing.T) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, in := range s.instrs {
		if in.cmd != "ENV" && in.cmd != "ARG" {
			continue
		}
		words := shellWords(t, in)
		if in.cmd == "ENV" && len(words) >= 2 && !strings.Contains(words[0], "=") {
			// The old form: ENV NAME value with spaces.
			vars[words[0]] = os.Expand(strings.Join(words[1:], " "), func(k string) string { return vars[k] })
			continue
		}
		for _, w := range words {
			k, v, ok := strings.Cut(w, "=")
			if !ok {
				if in.cmd == "ENV" {
					t.Fatalf("%s:%d: ENV %q is not NAME=value", dockerfilePath, in.line, w)
				}
				if _, set := vars[k]; !set {
					vars[k] = "" // ARG without a default
				}
				continue
			}
			vars[k] = os.Expand(v, func(k string) string { return vars[k] })
		}
	}
	return vars
}

// shellWords splits an ENV or ARG line into words as Docker does: spaces
// separate words, quotes group them and are removed, a backslash escapes
// the next character.
func shellWords(t *testing.T, in instruction) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range in.args {
		switch {
		case escaped:
			w.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		t.Fatalf("%s:%d: unbalanced quote or trailing backslash in %s %s", dockerfilePath, in.line, in.cmd, in.args)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// image is what these tests take from the Dockerfile.
type image struct {
	build, runtime stage
	// goBuild is the builder stage's go build command, in shell form, and
	// output the path it writes the binary to (its -o).
	goBuild instruction
	output  string
	// binary is where the runtime stage has the binary: the entrypoint.
	binary      string
	entrypoint  []string
	cmd         []string
	healthcheck []string
	hcTimeout   time.Duration
}

var goBuildOutput = regexp.MustCompile(`(^|\s)-o\s+(\S+)`)

// readImage checks the Dockerfile's structure and returns its parts: a
// builder stage that runs go build with cgo, and a last, runtime stage that
// copies the binary out of it and runs it as a non-root user on the data
// volume, with a HEALTHCHECK that asks the binary itself.
func readImage(t *testing.T) image {
	t.Helper()
	stages := parseDockerfile(t, dockerfilePath)
	if len(stages) < 2 {
		t.Fatalf("%s has %d stage(s); want a build stage and a runtime stage", dockerfilePath, len(stages))
	}
	var im image
	im.runtime = stages[len(stages)-1]

	// The builder: the stage whose RUN is go build.
	found := false
	for _, s := range stages[:len(stages)-1] {
		for _, in := range s.all("RUN") {
			if strings.HasPrefix(in.args, "go build ") {
				if found {
					t.Fatalf("%s:%d: a second go build; the test runs one", dockerfilePath, in.line)
				}
				im.build, im.goBuild, found = s, in, true
			}
		}
	}
	if !found {
		t.Fatalf("%s: no stage but the last has a RUN go build ...", dockerfilePath)
	}
	if strings.HasPrefix(im.goBuild.args, "[") {
		t.Fatalf("%s:%d: go build is in exec form; it needs the shell form to expand ${VERSION}", dockerfilePath, im.goBuild.line)
	}
	if im.build.name == "" {
		t.Fatalf("%s: the build stage FROM %s has no name (AS build) to copy from", dockerfilePath, im.build.from)
	}
	if !strings.HasPrefix(im.build.from, "golang:") {
		t.Errorf("%s: the build stage is FROM %s; want the official golang image", dockerfilePath, im.build.from)
	}
	if got := im.build.env(t)["CGO_ENABLED"]; got != "1" {
		t.Errorf("%s: the build stage has CGO_ENABLED=%q; go-sqlite3 needs 1", dockerfilePath, got)
	}
	for _, want := range []string{"./cmd/sitrep", "-X main.version=${VERSION}"} {
		if !strings.Contains(im.goBuild.args, want) {
			t.Errorf("%s:%d: go build does not have %s", dockerfilePath, im.goBuild.line, want)
		}
	}
	m := goBuildOutput.FindStringSubmatch(im.goBuild.args)
	if m == nil || !path.IsAbs(m[2]) {
		t.Fatalf("%s:%d: go build has no -o with an absolute path", dockerfilePath, im.goBuild.line)
	}
	im.output = m[2]

	// The modules are downloaded before the source is copied, so that a
	// source change keeps that layer.
	download, copySource := -1, -1
	for i, in := range im.build.instrs {
		switch {
		case in.cmd == "RUN" && in.args == "go mod download" && download < 0:
			download = i
		case in.cmd == "COPY" && strings.HasPrefix(in.args, ". ") && copySource < 0:
			copySource = i
		}
	}
	if download < 0 || copySource < 0 || download > copySource {
		t.Errorf("%s: want RUN go mod download before COPY . (the source) in the build stage", dockerfilePath)
	}

	// The runtime stage copies the built binary and runs it.
	r := im.runtime
	ep := r.last(t, "ENTRYPOINT")
	im.entrypoint = execForm(t, ep, ep.args)
	im.binary = im.entrypoint[0]
	copied := false
	for _, in := range r.all("COPY") {
		if words := strings.Fields(in.args); in.flags["from"] == im.build.name && len(words) == 2 && words[0] == im.output {
			if words[1] != im.binary {
				t.Errorf("%s:%d: the binary is copied to %s, but ENTRYPOINT runs %s", dockerfilePath, in.line, words[1], im.binary)
			}
			copied = true
		}
	}
	if !copied {
		t.Errorf("%s: the runtime stage does not COPY --from=%s %s (go build's -o) %s (the ENTRYPOINT)", dockerfilePath, im.build.name, im.output, im.binary)
	}
	if len(im.entrypoint) != 1 {
		t.Errorf("%s: ENTRYPOINT is %q; want only the binary, so that arguments name the subcommand", dockerfilePath, im.entrypoint)
	}
	cmd := r.last(t, "CMD")
	im.cmd = execForm(t, cmd, cmd.args)
	if !slices.Equal(im.cmd, []string{"serve"}) {
		t.Errorf("%s: CMD is %q; want [\"serve\"]", dockerfilePath, im.cmd)
	}

	user := r.last(t, "USER")
	name, _, _ := strings.Cut(user.args, ":")
	if name == "" || name == "root" || name == "0" {
		t.Errorf("%s:%d: the runtime stage runs as USER %q; want a non-root user", dockerfilePath, user.line, user.args)
	}

	hc := r.last(t, "HEALTHCHECK")
	hcCmd, ok := strings.CutPrefix(hc.args, "CMD ")
	if !ok {
		t.Fatalf("%s:%d: HEALTHCHECK %s has no CMD", dockerfilePath, hc.line, hc.args)
	}
	im.healthcheck = execForm(t, hc, strings.TrimSpace(hcCmd))
	if !slices.Equal(im.healthcheck, []string{im.binary, "healthcheck"}) {
		t.Errorf("%s:%d: HEALTHCHECK runs %q; want [%q \"healthcheck\"]", dockerfilePath, hc.line, im.healthcheck, im.binary)
	}
	d, err := time.ParseDuration(hc.flags["timeout"])
	if err != nil {
		t.Errorf("%s:%d: HEALTHCHECK has no --timeout: %v", dockerfilePath, hc.line, err)
		d = 3 * time.Second
	}
	im.hcTimeout = d

	if v := r.last(t, "VOLUME"); strings.TrimSpace(v.args) != "/data" && v.args != `["/data"]` {
		t.Errorf("%s:%d: VOLUME %s; want /data", dockerfilePath, v.line, v.args)
	}
	if wd := r.last(t, "WORKDIR"); wd.args != "/data" {
		t.Errorf("%s:%d: WORKDIR %s; want /data, so that a .env there is read", dockerfilePath, wd.line, wd.args)
	}
	if !slices.ContainsFunc(r.all("EXPOSE"), func(in instruction) bool { return slices.Contains(strings.Fields(in.args), "8080") }) {
		t.Errorf("%s: the runtime stage does not EXPOSE 8080", dockerfilePath)
	}
	env := r.env(t)
	if got := env["SITREP_DB"]; !strings.HasPrefix(got, "/data/") {
		t.Errorf("%s: the runtime stage has SITREP_DB=%q; want the database in the /data volume", dockerfilePath, got)
	}
	if got := env["SITREP_ADDR"]; got != ":8080" {
		t.Errorf("%s: the runtime stage has SITREP_ADDR=%q; want :8080, the exposed port", dockerfilePath, got)
	}
	return im
}

func TestDockerfileStructure(t *testing.T) {
	readImage(t)
}

// TestDockerfileBuildAndHealthcheck runs the Dockerfile's go build in the
// repository (the build context), starts the binary as the container
// would, against the fake Slack, and runs the HEALTHCHECK command against
// it.
func TestDockerfileBuildAndHealthcheck(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: runs the Dockerfile's go build")
	}
	im := readImage(t)
	if t.Failed() {
		t.FailNow()
	}

	// The build, as RUN runs it: /bin/sh -c, in the build context, with the
	// stage's ENV and ARG defaults in the environment. Only the output
	// moves, into a temporary directory.
	dir := t.TempDir()
	build := func(bin string, buildArgs map[string]string) {
		t.Helper()
		script := goBuildOutput.ReplaceAllString(im.goBuild.args, "${1}-o "+shellQuote(bin))
		cmd := exec.CommandContext(t.Context(), "/bin/sh", "-c", script)
		cmd.Env = os.Environ()
		for k, v := range im.build.env(t) {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		for k, v := range buildArgs {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		began := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s:%d: the build failed: %v\n%s\n%s", dockerfilePath, im.goBuild.line, err, script, out)
		}
		t.Logf("built %s (as %s) in %s", im.output, bin, time.Since(began).Round(100*time.Millisecond))
	}
	versionOf := func(bin string) []string {
		t.Helper()
		out, err := exec.CommandContext(t.Context(), bin, "version").CombinedOutput()
		if err != nil {
			t.Fatalf("sitrep version: %v\n%s", err, out)
		}
		return strings.Fields(string(out))
	}

	bin := filepath.Join(dir, "out", "sitrep")
	build(bin, nil)
	if want := im.build.env(t)["VERSION"]; want == "" || !slices.Contains(versionOf(bin), want) {
		t.Errorf("sitrep version printed %q; want the ARG VERSION default %q", versionOf(bin), want)
	}
	// The default may be the source's own fallback; a --build-arg (as
	// docker-compose.yml passes) shows that the version really goes through
	// -ldflags. Only the link differs, so this build is quick.
	const release = "v0.0.0-container-test"
	other := filepath.Join(dir, "other", "sitrep")
	build(other, map[string]string{"VERSION": release})
	if got := versionOf(other); !slices.Contains(got, release) {
		t.Errorf("built with --build-arg VERSION=%s, sitrep version printed %q", release, got)
	}

	// Run it as the container would: in WORKDIR (here a directory for the
	// data), with the runtime stage's environment and what docker run -e
	// would add.
	fake := slackfake.New()
	defer fake.Close()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + freePort(t)
	env := im.runtime.env(t)
	for k, v := range map[string]string{
		"SLACK_BOT_TOKEN":      fake.BotToken(),
		"SLACK_SIGNING_SECRET": "container-test-secret",
		"SLACK_API_URL":        fake.URL(),
		"SITREP_DB":            filepath.Join(data, "sitrep.db"),
		"SITREP_ADDR":          addr,
	} {
		env[k] = v
	}
	environ := func(env map[string]string) []string {
		var out []string
		for k, v := range env {
			out = append(out, k+"="+v)
		}
		return out
	}

	logs, err := os.Create(filepath.Join(dir, "sitrep.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	readLogs := func() string { b, _ := os.ReadFile(logs.Name()); return string(b) }
	args := append(slices.Clone(im.entrypoint[1:]), im.cmd...)
	serve := exec.Command(bin, args...)
	serve.Dir, serve.Env, serve.Stdout, serve.Stderr = data, environ(env), logs, logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			serve.Process.Kill()
			<-exited
		}
	}()

	// Ready once /readyz answers 200, or given up on if it dies first.
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("sitrep %s exited before it was ready: %v\n%s", strings.Join(args, " "), err, readLogs())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("sitrep was not ready on %s within 30s\n%s", addr, readLogs())
		}
	}
	if len(fake.Calls("auth.test")) == 0 {
		t.Errorf("sitrep started without checking its token with the fake Slack at SLACK_API_URL\n%s", readLogs())
	}

	// The HEALTHCHECK, as Docker runs it: the same environment and working
	// directory as the container, and its --timeout.
	healthcheck := func(env map[string]string) (string, error) {
		ctx, cancel := context.WithTimeout(t.Context(), im.hcTimeout)
		defer cancel()
		hc := exec.CommandContext(ctx, bin, im.healthcheck[1:]...)
		hc.Dir, hc.Env = data, environ(env)
		out, err := hc.CombinedOutput()
		if ctx.Err() != nil {
			err = fmt.Errorf("no answer within the HEALTHCHECK --timeout %s", im.hcTimeout)
		}
		return string(out), err
	}
	if out, err := healthcheck(env); err != nil {
		t.Errorf("HEALTHCHECK %q failed on a running sitrep: %v\n%s\nlogs:\n%s", im.healthcheck, err, out, readLogs())
	}
	// In the image SITREP_ADDR has no host (":8080"); the check must then
	// ask the loopback address. sitrep itself stays on 127.0.0.1 here.
	noHost := maps.Clone(env)
	noHost["SITREP_ADDR"] = addr[strings.LastIndex(addr, ":"):]
	if out, err := healthcheck(noHost); err != nil {
		t.Errorf("HEALTHCHECK %q with SITREP_ADDR=%s failed on a running sitrep: %v\n%s", im.healthcheck, noHost["SITREP_ADDR"], err, out)
	}

	// docker stop sends SIGTERM; sitrep must finish and exit 0.
	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("sitrep did not exit cleanly on SIGTERM: %v\n%s", err, readLogs())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("sitrep had not exited 30s after SIGTERM\n%s", readLogs())
	}

	// With nothing listening, the same HEALTHCHECK must fail, or it would
	// never tell Docker anything.
	out2, err := healthcheck(env)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("HEALTHCHECK %q with sitrep stopped: %v (want exit status 1)\n%s", im.healthcheck, err, out2)
	} else if lines := strings.Split(strings.TrimSpace(out2), "\n"); len(lines) != 1 || lines[0] == "" {
		t.Errorf("HEALTHCHECK with sitrep stopped printed %q; want one line saying what was wrong", out2)
	}
}

// freePort returns a port nothing listens on just now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// TestDockerignoreKeepsTheBuildInputs checks that .dockerignore leaves in
// every file go build ./cmd/sitrep reads from this module (Go and C
// sources, embedded templates and migrations, go.mod and go.sum) and
// leaves out what must never reach an image.
func TestDockerignoreKeepsTheBuildInputs(t *testing.T) {
	ignore := readDockerignore(t, ".dockerignore")

	list := exec.Command("go", "list", "-deps", "-json=Dir,Module,GoFiles,CgoFiles,CFiles,HFiles,EmbedFiles", "./cmd/sitrep")
	list.Env = append(os.Environ(), "CGO_ENABLED=1")
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	needed := []string{"go.mod", "go.sum"}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			Dir        string
			Module     *struct{ Main bool }
			GoFiles    []string
			CgoFiles   []string
			CFiles     []string
			HFiles     []string
			EmbedFiles []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Module == nil || !p.Module.Main {
			continue // the standard library and the downloaded modules
		}
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, files := range [][]string{p.GoFiles, p.CgoFiles, p.CFiles, p.HFiles, p.EmbedFiles} {
			for _, f := range files {
				needed = append(needed, filepath.ToSlash(filepath.Join(rel, f)))
			}
		}
	}
	if !slices.Contains(needed, "templates/postmortem.md.tmpl") || !slices.ContainsFunc(needed, func(f string) bool { return strings.HasPrefix(f, "storage/sqlite/migrations/") }) {
		t.Fatalf("go list did not report the embedded templates and migrations; got %q", needed)
	}
	for _, f := range needed {
		if ignore.excludes(f) {
			t.Errorf(".dockerignore leaves out %s, which go build ./cmd/sitrep needs", f)
		}
	}
	for _, f := range []string{".git/config", ".env", "sitrep.db", "sitrep.db-wal", "storage/sqlite/testdata/x.db", "cmd/sitrep/main_test.go"} {
		if !ignore.excludes(f) {
			t.Errorf(".dockerignore sends %s to the build", f)
		}
	}
}

// dockerignore is a parsed .dockerignore.
type dockerignore []struct {
	re     *regexp.Regexp
	negate bool
}

// readDockerignore parses a .dockerignore with Docker's rules: one pattern
// a line, # starts a comment line, paths are relative to the context (a
// leading / is dropped), * and ? do not cross a /, ** matches any number
// of directories, and a line starting with ! brings back what it matches.
func readDockerignore(t *testing.T, file string) dockerignore {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out dockerignore
	for line := range strings.Lines(string(raw)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		negate := false
		if p, ok := strings.CutPrefix(line, "!"); ok {
			line, negate = p, true
		}
		line = strings.TrimPrefix(path.Clean(line), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case c == '*' && i+1 < len(line) && line[i+1] == '*':
				i++
				if i+1 < len(line) && line[i+1] == '/' {
					i++
				}
				if i+1 == len(line) {
					re.WriteString(".*")
				} else {
					re.WriteString("(.*/)?")
				}
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		out = append(out, struct {
			re     *regexp.Regexp
			negate bool
		}{regexp.MustCompile(re.String()), negate})
	}
	return out
}

// excludes reports whether the file is left out of the build context: the
// last pattern that matches it or one of its parent directories decides.
func (d dockerignore) excludes(file string) bool {
	excluded := false
	for _, p := range d {
		for dir := file; dir != "."; dir = path.Dir(dir) {
			if p.re.MatchString(dir) {
				excluded = !p.negate
				break
			}
		}
	}
	return excluded
}

// TestComposeFile checks docker-compose.yml's structure: the compose
// client cannot run here (no engine, no plugin), so this stands in for
// docker compose config.
func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]struct {
			Build struct {
				Context    string            `yaml:"context"`
				Dockerfile string            `yaml:"dockerfile"`
				Args       map[string]string `yaml:"args"`
			} `yaml:"build"`
			Image   string   `yaml:"image"`
			EnvFile string   `yaml:"env_file"`
			Ports   []string `yaml:"ports"`
			Volumes []string `yaml:"volumes"`
			Restart string   `yaml:"restart"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	svc, ok := f.Services["sitrep"]
	if !ok || len(f.Services) != 1 {
		t.Fatalf("docker-compose.yml has services %v; want one, sitrep", slices.Sorted(maps.Keys(f.Services)))
	}
	if svc.Build.Context != "." || (svc.Build.Dockerfile != "" && svc.Build.Dockerfile != dockerfilePath) {
		t.Errorf("sitrep builds from context %q, Dockerfile %q; want this repository's Dockerfile", svc.Build.Context, svc.Build.Dockerfile)
	}
	if svc.EnvFile != ".env" {
		t.Errorf("sitrep has env_file %q; want .env", svc.EnvFile)
	}
	if !slices.Contains(svc.Ports, "8080:8080") {
		t.Errorf("sitrep maps ports %q; want 8080:8080", svc.Ports)
	}
	if svc.Restart != "unless-stopped" {
		t.Errorf("sitrep has restart %q; want unless-stopped", svc.Restart)
	}
	var volume string
	for _, v := range svc.Volumes {
		if src, dst, _ := strings.Cut(v, ":"); dst == "/data" {
			volume = src
		}
	}
	if _, declared := f.Volumes[volume]; volume == "" || strings.ContainsAny(volume, "./") || !declared {
		t.Errorf("sitrep mounts %q; want a named volume, declared under volumes:, at /data", svc.Volumes)
	}
}

// composeService is what the compose tests read of a service.
type composeService struct {
	Image       string            `yaml:"image"`
	EnvFile     string            `yaml:"env_file"`
	Environment map[string]string `yaml:"environment"`
	Command     []string          `yaml:"command"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	Profiles    []string          `yaml:"profiles"`
	Restart     string            `yaml:"restart"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	// DependsOn is read in either form, a list of names or a map of
	// names to conditions; a list's entries have no condition.
	DependsOn dependsOn `yaml:"depends_on"`
	Deploy    struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
}

type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	*d = dependsOn{}
	if n.Kind == yaml.SequenceNode {
		var names []string
		if err := n.Decode(&names); err != nil {
			return err
		}
		for _, name := range names {
			(*d)[name] = ""
		}
		return nil
	}
	var m map[string]struct {
		Condition string `yaml:"condition"`
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	for name, c := range m {
		(*d)[name] = c.Condition
	}
	return nil
}

// TestComposePostgresFile checks docker-compose.postgres.yml's structure:
// PostgreSQL with a health check and a volume; two Sitrep replicas that
// wait for it and share it through one postgres:// SITREP_DB whose password
// comes from .env; Caddy in front of both, with the Caddyfile naming each
// replica on the ports it listens on; and the SQLite copy, run only by
// name, reading docker-compose.yml's volume.
func TestComposePostgresFile(t *testing.T) {
	raw, err := os.ReadFile("docker-compose.postgres.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]composeService `yaml:"services"`
		Volumes  map[string]any            `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("docker-compose.postgres.yml: %v", err)
	}
	names := slices.Sorted(maps.Keys(f.Services))
	if want := []string{"caddy", "migrate-from-sqlite", "postgres", "sitrep-1", "sitrep-2"}; !slices.Equal(names, want) {
		t.Fatalf("services %v; want %v", names, want)
	}
	pg := f.Services["postgres"]
	if !strings.HasPrefix(pg.Image, "postgres:") || !slices.Contains(pg.Healthcheck.Test, "pg_isready") {
		t.Errorf("postgres: image %q, health check %v; want PostgreSQL checked with pg_isready", pg.Image, pg.Healthcheck.Test)
	}
	if pw := pg.Environment["POSTGRES_PASSWORD"]; !strings.HasPrefix(pw, "${POSTGRES_PASSWORD") {
		t.Errorf("postgres: POSTGRES_PASSWORD is %q; want it from .env", pw)
	}
	if v := mountedAt(pg.Volumes, "/var/lib/postgresql/data"); v == "" || f.Volumes == nil || !slices.Contains(slices.Collect(maps.Keys(f.Volumes)), v) {
		t.Errorf("postgres mounts %q; want a named volume at /var/lib/postgresql/data", pg.Volumes)
	}

	// The replicas: the same image, settings and database, each waiting
	// for PostgreSQL, neither published (Caddy is the way in).
	replicas := []string{"sitrep-1", "sitrep-2"}
	first := f.Services[replicas[0]]
	db := first.Environment["SITREP_DB"]
	if !strings.HasPrefix(db, "postgres://") || !strings.Contains(db, "${POSTGRES_PASSWORD}@postgres:5432/") {
		t.Errorf("%s: SITREP_DB %q; want the postgres service's URL with the password from .env", replicas[0], db)
	}
	for _, name := range replicas {
		r := f.Services[name]
		if r.Environment["SITREP_DB"] != db || r.Image != first.Image {
			t.Errorf("%s: SITREP_DB %q, image %q; want %s's %q and %q: replicas share one database", name, r.Environment["SITREP_DB"], r.Image, replicas[0], db, first.Image)
		}
		if r.DependsOn["postgres"] != "service_healthy" {
			t.Errorf("%s depends on %v; want it to wait for PostgreSQL to be healthy", name, r.DependsOn)
		}
		if r.EnvFile != ".env" || len(r.Ports) != 0 || len(r.Profiles) != 0 || r.Command != nil || r.Deploy.Replicas > 1 {
			t.Errorf("%s: env_file %q, ports %v, profiles %v, command %q, deploy.replicas %d; want .env, nothing published, started by up, serving, one container", name, r.EnvFile, r.Ports, r.Profiles, r.Command, r.Deploy.Replicas)
		}
		if r.Restart != "unless-stopped" {
			t.Errorf("%s has restart %q; want unless-stopped", name, r.Restart)
		}
	}
	httpPort := composePort(t, first.Environment["SITREP_ADDR"])
	statusPort := composePort(t, first.Environment["SITREP_STATUS_ADDR"])

	// Caddy: published, after the replicas, with deploy/Caddyfile.
	lb := f.Services["caddy"]
	if !strings.HasPrefix(lb.Image, "caddy:2") {
		t.Errorf("caddy: image %q; want Docker Hub's caddy:2", lb.Image)
	}
	for _, name := range replicas {
		if _, ok := lb.DependsOn[name]; !ok {
			t.Errorf("caddy depends on %v; want %s too", lb.DependsOn, name)
		}
	}
	caddyfile := ""
	for _, v := range lb.Volumes {
		if src, rest, _ := strings.Cut(v, ":"); strings.HasPrefix(rest, "/etc/caddy/Caddyfile") {
			caddyfile = src
		}
	}
	if caddyfile != "./deploy/Caddyfile" {
		t.Fatalf("caddy mounts %q; want ./deploy/Caddyfile at /etc/caddy/Caddyfile", lb.Volumes)
	}
	for _, p := range []int{httpPort, statusPort} {
		if want := fmt.Sprintf("%d:%d", p, p); !slices.Contains(lb.Ports, want) {
			t.Errorf("caddy publishes %v; want %s", lb.Ports, want)
		}
	}
	sites := readCaddyfile(t, caddyfile)
	checkCaddySite(t, sites, httpPort, replicas, "/readyz", []string{"/slack/commands", "/slack/interactions", "/slack/events", "/hooks/alertmanager", "/healthz", "/readyz"}, []string{"/metrics"})
	checkCaddySite(t, sites, statusPort, replicas, "", []string{"/", "/api/v2/summary.json"}, nil)

	// The SQLite copy: only run by name, into the replicas' database,
	// from the volume docker-compose.yml keeps its database in.
	mg := f.Services["migrate-from-sqlite"]
	if len(mg.Profiles) == 0 || mg.Restart != "no" {
		t.Errorf("migrate-from-sqlite: profiles %v, restart %q; want a profile, so that up does not run it, and no restart", mg.Profiles, mg.Restart)
	}
	if mg.Environment["SITREP_DB"] != db || mg.DependsOn["postgres"] != "service_healthy" {
		t.Errorf("migrate-from-sqlite: SITREP_DB %q, depends on %v; want the replicas' database, once healthy", mg.Environment["SITREP_DB"], mg.DependsOn)
	}
	if len(mg.Command) != 3 || mg.Command[0] != "migrate" || mg.Command[1] != "--from" {
		t.Fatalf("migrate-from-sqlite runs %q; want migrate --from <file>", mg.Command)
	}
	var single struct {
		Services map[string]composeService `yaml:"services"`
	}
	raw, err = os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &single); err != nil {
		t.Fatal(err)
	}
	sqliteVolume := mountedAt(single.Services["sitrep"].Volumes, "/data")
	dir := path.Dir(mg.Command[2])
	if v := mountedAt(mg.Volumes, dir); v != sqliteVolume || path.Base(mg.Command[2]) != path.Base(readImage(t).runtime.env(t)["SITREP_DB"]) {
		t.Errorf("migrate-from-sqlite copies %s from volume %q; want the image's database file in docker-compose.yml's volume %q", mg.Command[2], v, sqliteVolume)
	}
	if _, ok := f.Volumes[sqliteVolume]; !ok {
		t.Errorf("volumes %v do not declare %s, so it would not be docker-compose.yml's", slices.Sorted(maps.Keys(f.Volumes)), sqliteVolume)
	}
}

// mountedAt returns the source of the volume mounted at dir.
func mountedAt(volumes []string, dir string) string {
	for _, v := range volumes {
		src, rest, _ := strings.Cut(v, ":")
		if dst, _, _ := strings.Cut(rest, ":"); dst == dir {
			return src
		}
	}
	return ""
}

// composePort is the port of a listen address such as ":8080".
func composePort(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	n, err2 := strconv.Atoi(p)
	if err != nil || err2 != nil {
		t.Fatalf("%q is not a listen address with a port", addr)
	}
	return n
}

// caddyBlock is a Caddyfile line (its words) and the block it opens.
type caddyBlock struct {
	words []string
	body  []caddyBlock
}

// readCaddyfile parses a Caddyfile into its top-level blocks (the global
// options and the sites) as far as these tests need: one directive a line,
// # comments, quoted words, and { } blocks.
func readCaddyfile(t *testing.T, file string) []caddyBlock {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	root := &caddyBlock{}
	stack := []*caddyBlock{root}
	for n, line := range strings.Split(string(raw), "\n") {
		words := caddyWords(line)
		if len(words) == 0 {
			continue
		}
		top := stack[len(stack)-1]
		switch {
		case len(words) == 1 && words[0] == "}":
			if len(stack) == 1 {
				t.Fatalf("%s:%d: } closes nothing", file, n+1)
			}
			stack = stack[:len(stack)-1]
		case words[len(words)-1] == "{":
			top.body = append(top.body, caddyBlock{words: words[:len(words)-1]})
			stack = append(stack, &top.body[len(top.body)-1])
		default:
			top.body = append(top.body, caddyBlock{words: words})
		}
	}
	if len(stack) != 1 {
		t.Fatalf("%s: a block is not closed", file)
	}
	return root.body
}

// caddyWords splits a Caddyfile line into words: spaces separate them,
// double quotes group them, # outside quotes starts a comment.
func caddyWords(line string) []string {
	var words []string
	var w strings.Builder
	quoted, inWord := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case quoted:
			w.WriteRune(r)
		case r == '#' && !inWord:
			return words
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// find returns the blocks under b, at any depth, whose first word is name.
func (b caddyBlock) find(name string) []caddyBlock {
	var out []caddyBlock
	for _, c := range b.body {
		if len(c.words) > 0 && c.words[0] == name {
			out = append(out, c)
		}
		out = append(out, c.find(name)...)
	}
	return out
}

// checkCaddySite checks the site listening on port: every reverse_proxy in
// it sends to each replica on that same port and, when health is set,
// checks that path; the paths it proxies (its matcher's, when it has one)
// include every path of want and none of avoid.
func checkCaddySite(t *testing.T, sites []caddyBlock, port int, replicas []string, health string, want, avoid []string) {
	t.Helper()
	var site *caddyBlock
	for i, s := range sites {
		if slices.Equal(s.words, []string{fmt.Sprintf(":%d", port)}) {
			site = &sites[i]
		}
	}
	if site == nil {
		t.Errorf("the Caddyfile has no site :%d", port)
		return
	}
	matchers := map[string][]string{}
	for _, c := range site.body {
		if len(c.words) > 2 && strings.HasPrefix(c.words[0], "@") && c.words[1] == "path" {
			matchers[c.words[0]] = c.words[2:]
		}
	}
	// The site's proxies, each with the paths it takes: its own matcher's,
	// or that of the handle block it is in; nil for every path.
	type proxy struct {
		block caddyBlock
		paths []string
	}
	var proxies []proxy
	for _, c := range site.body {
		switch {
		case len(c.words) > 0 && c.words[0] == "reverse_proxy":
			var paths []string
			if len(c.words) > 1 && strings.HasPrefix(c.words[1], "@") {
				paths = matchers[c.words[1]]
			}
			proxies = append(proxies, proxy{c, paths})
		case len(c.words) > 0 && c.words[0] == "handle":
			var paths []string
			if len(c.words) > 1 {
				paths = matchers[c.words[1]]
			}
			for _, p := range c.find("reverse_proxy") {
				proxies = append(proxies, proxy{p, paths})
			}
		}
	}
	if len(proxies) == 0 {
		t.Errorf("the Caddyfile's site :%d proxies nothing", port)
	}
	covers := func(paths []string, path string) bool {
		if paths == nil {
			return true
		}
		return slices.ContainsFunc(paths, func(p string) bool {
			prefix, wild := strings.CutSuffix(p, "*")
			return p == path || wild && strings.HasPrefix(path, prefix)
		})
	}
	for _, p := range proxies {
		var upstreams []string
		for _, w := range p.block.words[1:] {
			if !strings.HasPrefix(w, "@") {
				upstreams = append(upstreams, w)
			}
		}
		for _, r := range replicas {
			if want := fmt.Sprintf("%s:%d", r, port); !slices.Contains(upstreams, want) {
				t.Errorf("the Caddyfile's site :%d proxies to %q; want %s among them", port, upstreams, want)
			}
		}
		if health != "" {
			uri := p.block.find("health_uri")
			if len(uri) != 1 || !slices.Equal(uri[0].words[1:], []string{health}) || len(p.block.find("health_port")) > 0 {
				t.Errorf("the Caddyfile's site :%d checks replicas with %v; want health_uri %s on the proxied port", port, uri, health)
			}
		}
		for _, w := range want {
			if !covers(p.paths, w) {
				t.Errorf("the Caddyfile's site :%d proxies paths %q; want %s among them", port, p.paths, w)
			}
		}
		for _, a := range avoid {
			if covers(p.paths, a) {
				t.Errorf("the Caddyfile's site :%d proxies paths %q, which include %s", port, p.paths, a)
			}
		}
	}
}
