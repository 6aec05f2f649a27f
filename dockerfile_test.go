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

// TestComposePostgresFile checks docker-compose.postgres.yml's structure:
// PostgreSQL with a health check and a volume, and one Sitrep that waits
// for it and reaches it by a postgres:// SITREP_DB whose password comes
// from .env, not from the file.
func TestComposePostgresFile(t *testing.T) {
	raw, err := os.ReadFile("docker-compose.postgres.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			EnvFile     string            `yaml:"env_file"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
			Ports       []string          `yaml:"ports"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			DependsOn map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			Deploy struct {
				Replicas int `yaml:"replicas"`
			} `yaml:"deploy"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("docker-compose.postgres.yml: %v", err)
	}
	if len(f.Services) != 2 {
		t.Fatalf("services %v; want postgres and sitrep", slices.Sorted(maps.Keys(f.Services)))
	}
	pg, app := f.Services["postgres"], f.Services["sitrep"]
	if !strings.HasPrefix(pg.Image, "postgres:") || !slices.Contains(pg.Healthcheck.Test, "pg_isready") {
		t.Errorf("postgres: image %q, health check %v; want PostgreSQL checked with pg_isready", pg.Image, pg.Healthcheck.Test)
	}
	if pw := pg.Environment["POSTGRES_PASSWORD"]; !strings.HasPrefix(pw, "${POSTGRES_PASSWORD") {
		t.Errorf("postgres: POSTGRES_PASSWORD is %q; want it from .env", pw)
	}
	var volume string
	for _, v := range pg.Volumes {
		if src, dst, _ := strings.Cut(v, ":"); dst == "/var/lib/postgresql/data" {
			volume = src
		}
	}
	if _, declared := f.Volumes[volume]; volume == "" || !declared {
		t.Errorf("postgres mounts %q; want a named volume at /var/lib/postgresql/data", pg.Volumes)
	}
	db := app.Environment["SITREP_DB"]
	if !strings.HasPrefix(db, "postgres://") || !strings.Contains(db, "${POSTGRES_PASSWORD}@postgres:5432/") {
		t.Errorf("sitrep: SITREP_DB %q; want the postgres service's URL with the password from .env", db)
	}
	if app.DependsOn["postgres"].Condition != "service_healthy" {
		t.Errorf("sitrep depends on %+v; want it to wait for PostgreSQL to be healthy", app.DependsOn)
	}
	if app.EnvFile != ".env" || !slices.Contains(app.Ports, "8080:8080") {
		t.Errorf("sitrep: env_file %q, ports %v; want .env and 8080:8080", app.EnvFile, app.Ports)
	}
	if app.Deploy.Replicas > 1 {
		t.Errorf("sitrep runs %d replicas; replicas do not yet share out triage messages", app.Deploy.Replicas)
	}
}
