package deploy

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// These tests render the chart with a real helm, as `helm install` would
// before sending the manifests to Kubernetes, and check what matters in
// them. There is no cluster here: what Kubernetes itself would refuse is
// not checked, only what the chart says.

const chartDir = "helm/sitrep"

// helm returns the helm binary SITREP_HELM names. Without it the tests
// skip, except in CI (.ci/run builds helm and sets it), where they fail.
func helm(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("SITREP_HELM")
	if bin == "" {
		const how = "SITREP_HELM is not set: build helm with `GOBIN=/tmp/helm go install helm.sh/helm/v4/cmd/helm@v4.3.2` and run `SITREP_HELM=/tmp/helm/helm go test ./deploy`"
		if os.Getenv("CI") != "" {
			t.Fatal(how + " (required in CI)")
		}
		t.Skip(how)
	}
	if _, err := exec.LookPath(bin); err != nil {
		t.Fatalf("SITREP_HELM=%s: %v", bin, err)
	}
	return bin
}

// Secret values the renders use, each distinct, so that finding one
// outside a Secret is certain to be a leak.
const (
	testDB     = "postgres://sitrep:db-password-7f3a@db.example.com:5432/sitrep"
	testToken  = "xoxb-bot-token-9c1e"
	testSecret = "signing-secret-42d8"
)

// required are the values every render needs: the chart makes the Secret.
var required = []string{
	"--set", "secrets.values.SITREP_DB=" + testDB,
	"--set", "secrets.values.SLACK_BOT_TOKEN=" + testToken,
	"--set", "secrets.values.SLACK_SIGNING_SECRET=" + testSecret,
}

// object is one rendered manifest: what every kind has, and the document
// itself to decode further.
type object struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	node *yaml.Node
	text string // the document as helm wrote it
}

// decode reads the whole document into v.
func (o object) decode(t *testing.T, v any) {
	t.Helper()
	if err := o.node.Decode(v); err != nil {
		t.Fatalf("%s %s: %v", o.Kind, o.Metadata.Name, err)
	}
}

type rendered []object

// render runs helm template with the arguments and returns its manifests,
// or helm's error output when it refuses.
func render(t *testing.T, args ...string) (rendered, error) {
	t.Helper()
	all := append([]string{"template", "rel", chartDir, "--namespace", "ops"}, args...)
	cmd := exec.Command(helm(t), all...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, stderr.String())
	}
	var out rendered
	for doc := range strings.SplitSeq(stdout.String(), "\n---\n") {
		var node yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
			t.Fatalf("helm template %q wrote a document that is not YAML: %v\n%s", args, err, doc)
		}
		if len(node.Content) == 0 || node.Content[0].Kind != yaml.MappingNode {
			continue // comments alone
		}
		o := object{node: &node, text: doc}
		if err := node.Decode(&o); err != nil {
			t.Fatal(err)
		}
		if o.Kind == "" || o.Metadata.Name == "" {
			t.Fatalf("a rendered document has no kind or name:\n%s", doc)
		}
		out = append(out, o)
	}
	return out, nil
}

// mustRender is render for values the chart must take.
func mustRender(t *testing.T, args ...string) rendered {
	t.Helper()
	out, err := render(t, append(slices.Clone(required), args...)...)
	if err != nil {
		t.Fatalf("helm template with %q: %v", args, err)
	}
	return out
}

// all returns the objects of one kind.
func (r rendered) all(kind string) []object {
	var out []object
	for _, o := range r {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// one returns the only object of a kind that is not a Helm hook.
func (r rendered) one(t *testing.T, kind string) object {
	t.Helper()
	var out []object
	for _, o := range r.all(kind) {
		if o.Metadata.Annotations["helm.sh/hook"] == "" {
			out = append(out, o)
		}
	}
	if len(out) != 1 {
		t.Fatalf("rendered %d %s objects (not hooks); want one", len(out), kind)
	}
	return out[0]
}

// hook returns the hook of a kind; nil when there is none.
func (r rendered) hook(t *testing.T, kind string) *object {
	t.Helper()
	var out []object
	for _, o := range r.all(kind) {
		if o.Metadata.Annotations["helm.sh/hook"] != "" {
			out = append(out, o)
		}
	}
	if len(out) > 1 {
		t.Fatalf("rendered %d %s hooks; want at most one", len(out), kind)
	}
	if len(out) == 0 {
		return nil
	}
	return &out[0]
}

// The parts of the Kubernetes objects these tests read.
type (
	deployment struct {
		Spec struct {
			Replicas int `yaml:"replicas"`
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
			Template podTemplate `yaml:"template"`
		} `yaml:"spec"`
	}
	job struct {
		Spec struct {
			Template podTemplate `yaml:"template"`
		} `yaml:"spec"`
	}
	podTemplate struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec podSpec `yaml:"spec"`
	}
	podSpec struct {
		AutomountServiceAccountToken  *bool          `yaml:"automountServiceAccountToken"`
		TerminationGracePeriodSeconds int            `yaml:"terminationGracePeriodSeconds"`
		SecurityContext               map[string]any `yaml:"securityContext"`
		Containers                    []container    `yaml:"containers"`
		Volumes                       []struct {
			Name      string `yaml:"name"`
			ConfigMap *struct {
				Name string `yaml:"name"`
			} `yaml:"configMap"`
		} `yaml:"volumes"`
	}
	container struct {
		Name  string   `yaml:"name"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		Env []struct {
			Name      string `yaml:"name"`
			Value     string `yaml:"value"`
			ValueFrom *struct {
				SecretKeyRef *struct {
					Name string `yaml:"name"`
					Key  string `yaml:"key"`
				} `yaml:"secretKeyRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
		EnvFrom []struct {
			SecretRef *struct {
				Name string `yaml:"name"`
			} `yaml:"secretRef"`
			ConfigMapRef any `yaml:"configMapRef"`
		} `yaml:"envFrom"`
		LivenessProbe  *probe `yaml:"livenessProbe"`
		ReadinessProbe *probe `yaml:"readinessProbe"`
		StartupProbe   *probe `yaml:"startupProbe"`
		Lifecycle      *struct {
			PreStop *struct {
				Sleep *struct {
					Seconds int `yaml:"seconds"`
				} `yaml:"sleep"`
			} `yaml:"preStop"`
		} `yaml:"lifecycle"`
		Resources struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		SecurityContext struct {
			ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
			ReadOnly  bool   `yaml:"readOnly"`
		} `yaml:"volumeMounts"`
	}
	probe struct {
		HTTPGet *struct {
			Path string `yaml:"path"`
			Port any    `yaml:"port"`
		} `yaml:"httpGet"`
	}
	service struct {
		Spec struct {
			Selector map[string]string `yaml:"selector"`
			Ports    []struct {
				Name       string `yaml:"name"`
				Port       int    `yaml:"port"`
				TargetPort any    `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	secret struct {
		StringData map[string]string `yaml:"stringData"`
		Data       map[string]string `yaml:"data"`
	}
	pdb struct {
		Spec struct {
			MinAvailable   *int `yaml:"minAvailable"`
			MaxUnavailable any  `yaml:"maxUnavailable"`
			Selector       struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
		} `yaml:"spec"`
	}
	ingress struct {
		Spec struct {
			Rules []struct {
				Host string `yaml:"host"`
				HTTP struct {
					Paths []struct {
						Path     string `yaml:"path"`
						PathType string `yaml:"pathType"`
						Backend  struct {
							Service struct {
								Name string `yaml:"name"`
								Port struct {
									Name   string `yaml:"name"`
									Number int    `yaml:"number"`
								} `yaml:"port"`
							} `yaml:"service"`
						} `yaml:"backend"`
					} `yaml:"paths"`
				} `yaml:"http"`
			} `yaml:"rules"`
		} `yaml:"spec"`
	}
)

// sitrep returns the Deployment and its Sitrep container.
func (r rendered) sitrep(t *testing.T) (deployment, container) {
	t.Helper()
	var d deployment
	r.one(t, "Deployment").decode(t, &d)
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("the Deployment's pods have %d containers; want Sitrep alone", len(cs))
	}
	return d, cs[0]
}

// env returns the container's variable: its literal value, or where it
// comes from.
func (c container) env(name string) (value string, secretRef string, ok bool) {
	for _, e := range c.Env {
		if e.Name != name {
			continue
		}
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			return "", e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key, true
		}
		return e.Value, "", true
	}
	return "", "", false
}

// port resolves a probe's or Service's port (a number or a container
// port's name) to the container's port number; 0 when it names none.
func (c container) port(p any) int {
	switch p := p.(type) {
	case int:
		return p
	case string:
		for _, cp := range c.Ports {
			if cp.Name == p {
				return cp.ContainerPort
			}
		}
		if n, err := strconv.Atoi(p); err == nil {
			return n
		}
	}
	return 0
}

// listenPort is the port of a listen address such as ":8080".
func listenPort(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	n, err2 := strconv.Atoi(p)
	if err != nil || err2 != nil {
		t.Fatalf("%q is not a listen address with a port", addr)
	}
	return n
}

// subset reports whether every label of sel is in labels (and sel is not
// empty: an empty selector selects everything).
func subset(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// chartFile reads a YAML file of the chart.
func chartFile(t *testing.T, name string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(chartDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestChartLints(t *testing.T) {
	out, err := exec.Command(helm(t), append([]string{"lint", "--strict", chartDir}, required...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("helm lint --strict: %v\n%s", err, out)
	}
}

// The defaults with the three required secrets: two replicas of Sitrep
// reading every secret from the chart's Secret, probed on its own port,
// kept up by a PodDisruptionBudget, and the schema migrated by a hook Job
// before the pods start.
func TestChartDefaults(t *testing.T) {
	r := mustRender(t)

	var values struct {
		ReplicaCount int `yaml:"replicaCount"`
		Image        struct {
			Repository string `yaml:"repository"`
		} `yaml:"image"`
		PreStopSleepSeconds int `yaml:"preStopSleepSeconds"`
	}
	chartFile(t, "values.yaml", &values)
	var chart struct {
		AppVersion string `yaml:"appVersion"`
	}
	chartFile(t, "Chart.yaml", &chart)

	d, c := r.sitrep(t)
	if values.ReplicaCount < 2 || d.Spec.Replicas != values.ReplicaCount {
		t.Errorf("the Deployment has %d replicas, values.yaml replicaCount %d; want them equal, and at least 2 by default", d.Spec.Replicas, values.ReplicaCount)
	}
	if want := values.Image.Repository + ":" + chart.AppVersion; chart.AppVersion == "" || c.Image != want {
		t.Errorf("the image is %q; want %q, the chart's appVersion as the tag", c.Image, want)
	}
	if !slices.Equal(c.Args, []string{"serve"}) {
		t.Errorf("the container runs %q; want [serve]", c.Args)
	}
	pod := d.Spec.Template.Metadata.Labels
	if !subset(d.Spec.Selector.MatchLabels, pod) {
		t.Errorf("the Deployment selects %v, its pods are labelled %v", d.Spec.Selector.MatchLabels, pod)
	}

	// Every secret reaches the container from the Secret, none inline.
	sec := r.one(t, "Secret")
	var s secret
	sec.decode(t, &s)
	for k, want := range map[string]string{"SITREP_DB": testDB, "SLACK_BOT_TOKEN": testToken, "SLACK_SIGNING_SECRET": testSecret} {
		if s.StringData[k] != want {
			t.Errorf("the Secret's %s is %q; want %q", k, s.StringData[k], want)
		}
	}
	fromSecret := slices.ContainsFunc(c.EnvFrom, func(e struct {
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
		ConfigMapRef any `yaml:"configMapRef"`
	}) bool {
		return e.SecretRef != nil && e.SecretRef.Name == sec.Metadata.Name
	})
	if !fromSecret {
		t.Errorf("the container's envFrom is %+v; want the Secret %s, so that each of its keys is a setting", c.EnvFrom, sec.Metadata.Name)
	}
	if _, ref, _ := c.env("SITREP_DB"); ref != sec.Metadata.Name+"/SITREP_DB" {
		t.Errorf("SITREP_DB comes from %q; want the Secret's key %s/SITREP_DB, named so that a Secret without it stops the pod", ref, sec.Metadata.Name)
	}
	for _, o := range r {
		if o.Kind == "Secret" {
			continue
		}
		for _, v := range []string{testDB, "db-password-7f3a", testToken, testSecret} {
			if strings.Contains(o.text, v) {
				t.Errorf("%s %s holds a secret value (%s); secrets belong in the Secret alone", o.Kind, o.Metadata.Name, v)
			}
		}
	}

	// Probes: /healthz for liveness and start-up, /readyz for readiness,
	// on the port Sitrep listens on.
	addr, _, ok := c.env("SITREP_ADDR")
	if !ok {
		t.Fatal("the container has no SITREP_ADDR; the probes' port would be the image's guess")
	}
	listen := listenPort(t, addr)
	for name, want := range map[string]struct {
		p    *probe
		path string
	}{
		"liveness":  {c.LivenessProbe, "/healthz"},
		"readiness": {c.ReadinessProbe, "/readyz"},
		"startup":   {c.StartupProbe, "/healthz"},
	} {
		if want.p == nil || want.p.HTTPGet == nil {
			t.Errorf("no %s probe over HTTP", name)
			continue
		}
		if want.p.HTTPGet.Path != want.path || c.port(want.p.HTTPGet.Port) != listen {
			t.Errorf("the %s probe asks %s on port %v (%d); want %s on %d, SITREP_ADDR's", name, want.p.HTTPGet.Path, want.p.HTTPGet.Port, c.port(want.p.HTTPGet.Port), want.path, listen)
		}
	}

	// The Service reaches the same port.
	var svc service
	svcObj := r.one(t, "Service")
	svcObj.decode(t, &svc)
	if !subset(svc.Spec.Selector, pod) {
		t.Errorf("Service %s selects %v; the pods are labelled %v", svcObj.Metadata.Name, svc.Spec.Selector, pod)
	}
	if len(svc.Spec.Ports) != 1 || c.port(svc.Spec.Ports[0].TargetPort) != listen {
		t.Errorf("Service %s has ports %+v; want one, to port %d", svcObj.Metadata.Name, svc.Spec.Ports, listen)
	}

	// The budget keeps one of the Deployment's pods, and only those.
	var b pdb
	r.one(t, "PodDisruptionBudget").decode(t, &b)
	if b.Spec.MinAvailable == nil || *b.Spec.MinAvailable < 1 || *b.Spec.MinAvailable >= d.Spec.Replicas {
		t.Errorf("the PodDisruptionBudget's minAvailable is %v with %d replicas; want at least 1 and fewer than the replicas", b.Spec.MinAvailable, d.Spec.Replicas)
	}
	if !subset(b.Spec.Selector.MatchLabels, pod) {
		t.Errorf("the PodDisruptionBudget selects %v; the pods are labelled %v", b.Spec.Selector.MatchLabels, pod)
	}

	// Resources, and the image's user without a writable filesystem.
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("resources %+v; want CPU and memory requests and a memory limit", c.Resources)
	}
	ps := d.Spec.Template.Spec
	if ps.SecurityContext["runAsNonRoot"] != true || ps.SecurityContext["runAsUser"] != dockerfileUser(t) {
		t.Errorf("the pod's securityContext is %v; want runAsNonRoot and the Dockerfile's USER %d", ps.SecurityContext, dockerfileUser(t))
	}
	if !c.SecurityContext.ReadOnlyRootFilesystem || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("the container's securityContext is %+v; want a read-only root filesystem and no privilege escalation", c.SecurityContext)
	}
	if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
		t.Error("the pods get a service account token; Sitrep never calls the Kubernetes API")
	}

	// Stopping: the pre-stop pause, then the 30 s cmd/sitrep/main.go
	// gives requests in flight, then its exit, all inside the grace period.
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds != values.PreStopSleepSeconds {
		t.Errorf("the container's lifecycle is %+v; want a pre-stop sleep of %d s", c.Lifecycle, values.PreStopSleepSeconds)
	}
	if ps.TerminationGracePeriodSeconds < values.PreStopSleepSeconds+30+5 {
		t.Errorf("terminationGracePeriodSeconds is %d; want at least the %d s pre-stop sleep, the 30 s Sitrep lets requests finish, and 5 s to exit", ps.TerminationGracePeriodSeconds, values.PreStopSleepSeconds)
	}

	// No status page, config file or Ingress unless asked for.
	if _, _, ok := c.env("SITREP_STATUS_ADDR"); ok || len(r.all("Service")) != 1 || len(r.all("Ingress")) != 0 || len(r.all("ConfigMap")) != 0 {
		t.Errorf("by default: SITREP_STATUS_ADDR set %v, %d Services, %d Ingresses, %d ConfigMaps; want no status page, one Service, no Ingress and no config file", ok, len(r.all("Service")), len(r.all("Ingress")), len(r.all("ConfigMap")))
	}

	// The migration Job: the same image, migrate, the same database, run
	// by a hook before install and upgrade; its pod is not one of the
	// Deployment's, for the Services and the budget.
	jo := r.hook(t, "Job")
	if jo == nil {
		t.Fatal("no migration Job")
	}
	if got := jo.Metadata.Annotations["helm.sh/hook"]; got != "pre-install,pre-upgrade" {
		t.Errorf("the migration Job's hook is %q; want pre-install,pre-upgrade", got)
	}
	var j job
	jo.decode(t, &j)
	jc := j.Spec.Template.Spec.Containers
	if len(jc) != 1 || jc[0].Image != c.Image || !slices.Equal(jc[0].Args, []string{"migrate"}) {
		t.Fatalf("the migration Job runs %+v; want the Deployment's image with migrate", jc)
	}
	if subset(d.Spec.Selector.MatchLabels, j.Spec.Template.Metadata.Labels) {
		t.Errorf("the migration Job's pod is labelled %v, which the Deployment's selector %v matches", j.Spec.Template.Metadata.Labels, d.Spec.Selector.MatchLabels)
	}
	_, ref, _ := jc[0].env("SITREP_DB")
	name, key, _ := strings.Cut(ref, "/")
	// Hooks run before the release's Secret exists (on install) or is
	// updated (on upgrade), so the Job reads a hook's copy made first.
	copySecret := r.hook(t, "Secret")
	if copySecret == nil || copySecret.Metadata.Name != name {
		t.Fatalf("the migration Job reads SITREP_DB from %q; want a hook Secret made before it", ref)
	}
	var cs secret
	copySecret.decode(t, &cs)
	if cs.StringData[key] != testDB {
		t.Errorf("the migration Job's SITREP_DB is %q; want the replicas' %q", cs.StringData[key], testDB)
	}
	if weight(t, *copySecret) >= weight(t, *jo) {
		t.Errorf("the hook Secret's weight %d is not below the Job's %d: it would not exist when the Job starts", weight(t, *copySecret), weight(t, *jo))
	}
	if !strings.Contains(copySecret.Metadata.Annotations["helm.sh/hook-delete-policy"], "hook-succeeded") {
		t.Error("the hook Secret with the database's password outlives the hooks; want hook-succeeded in its delete policy")
	}
}

func weight(t *testing.T, o object) int {
	t.Helper()
	w, err := strconv.Atoi(o.Metadata.Annotations["helm.sh/hook-weight"])
	if err != nil {
		t.Fatalf("%s %s: hook-weight: %v", o.Kind, o.Metadata.Name, err)
	}
	return w
}

// dockerfileUser is the runtime stage's USER, by number.
func dockerfileUser(t *testing.T) int {
	t.Helper()
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^USER\s+(\d+)`).FindAllStringSubmatch(string(raw), -1)
	if len(m) == 0 {
		t.Fatal("../Dockerfile has no USER with a number")
	}
	n, _ := strconv.Atoi(m[len(m)-1][1])
	return n
}

func TestChartReplicas(t *testing.T) {
	for _, n := range []int{1, 3} {
		r := mustRender(t, "--set", fmt.Sprintf("replicaCount=%d", n))
		d, _ := r.sitrep(t)
		if d.Spec.Replicas != n {
			t.Errorf("replicaCount=%d: the Deployment has %d replicas", n, d.Spec.Replicas)
		}
		// One pod cannot be kept up through its own eviction: a budget
		// would only block drains.
		if got := len(r.all("PodDisruptionBudget")); (n > 1) != (got == 1) {
			t.Errorf("replicaCount=%d: %d PodDisruptionBudgets", n, got)
		}
	}
}

// With the status page on, a second Service reaches its own listener, and
// the first does not.
func TestChartStatusPage(t *testing.T) {
	r := mustRender(t, "--set", "statusPage.enabled=true", "--set", "statusPage.ingress.enabled=true", "--set", "statusPage.ingress.host=status.example.com")
	d, c := r.sitrep(t)
	addr, _, ok := c.env("SITREP_STATUS_ADDR")
	if !ok {
		t.Fatal("statusPage.enabled: the container has no SITREP_STATUS_ADDR")
	}
	statusPort := listenPort(t, addr)
	mainAddr, _, _ := c.env("SITREP_ADDR")
	if statusPort == listenPort(t, mainAddr) {
		t.Fatalf("SITREP_STATUS_ADDR %s and SITREP_ADDR %s share a port", addr, mainAddr)
	}
	services := r.all("Service")
	if len(services) != 2 {
		t.Fatalf("%d Services; want Sitrep's and the status page's", len(services))
	}
	var statusSvc string
	for _, o := range services {
		var s service
		o.decode(t, &s)
		if !subset(s.Spec.Selector, d.Spec.Template.Metadata.Labels) || len(s.Spec.Ports) != 1 {
			t.Errorf("Service %s: selector %v, ports %+v; want the Deployment's pods, one port", o.Metadata.Name, s.Spec.Selector, s.Spec.Ports)
			continue
		}
		target := c.port(s.Spec.Ports[0].TargetPort)
		switch {
		case target == statusPort:
			statusSvc = o.Metadata.Name
		case target == listenPort(t, mainAddr):
		default:
			t.Errorf("Service %s targets %v, which is neither of Sitrep's ports", o.Metadata.Name, s.Spec.Ports[0].TargetPort)
		}
	}
	if statusSvc == "" {
		t.Fatalf("no Service targets the status page's port %d", statusPort)
	}
	var ing ingress
	r.one(t, "Ingress").decode(t, &ing)
	for _, rule := range ing.Spec.Rules {
		for _, p := range rule.HTTP.Paths {
			if p.Backend.Service.Name != statusSvc {
				t.Errorf("the status page's Ingress sends %s%s to %s; want %s", rule.Host, p.Path, p.Backend.Service.Name, statusSvc)
			}
		}
	}

	if _, err := render(t, append(slices.Clone(required), "--set", "statusPage.enabled=true", "--set", "statusPage.containerPort=8080")...); err == nil || !strings.Contains(err.Error(), "port of its own") {
		t.Errorf("the status page on Sitrep's own port: %v; want it refused", err)
	}
}

// Slack's Ingress carries /slack and /hooks to Sitrep, and not /metrics.
func TestChartIngress(t *testing.T) {
	r := mustRender(t, "--set", "ingress.enabled=true", "--set", "ingress.host=sitrep.example.com")
	var ing ingress
	r.one(t, "Ingress").decode(t, &ing)
	svc := r.one(t, "Service").Metadata.Name
	var paths []string
	for _, rule := range ing.Spec.Rules {
		for _, p := range rule.HTTP.Paths {
			paths = append(paths, p.Path)
			if p.Backend.Service.Name != svc || p.Backend.Service.Port.Name != "http" {
				t.Errorf("%s goes to %+v; want Service %s, port http", p.Path, p.Backend.Service, svc)
			}
		}
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"/hooks", "/slack"}) {
		t.Errorf("the Ingress routes %q; want /hooks and /slack alone (not /metrics)", paths)
	}
}

// A Secret of the user's own: the chart makes none and reads that one.
func TestChartExistingSecret(t *testing.T) {
	r, err := render(t, "--set", "secrets.existingSecret=sitrep-prod")
	if err != nil {
		t.Fatalf("helm template with secrets.existingSecret and nothing else: %v", err)
	}
	if n := len(r.all("Secret")); n != 0 {
		t.Errorf("with secrets.existingSecret the chart made %d Secrets", n)
	}
	_, c := r.sitrep(t)
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != "sitrep-prod" {
		t.Errorf("envFrom %+v; want the Secret sitrep-prod", c.EnvFrom)
	}
	if _, ref, _ := c.env("SITREP_DB"); ref != "sitrep-prod/SITREP_DB" {
		t.Errorf("SITREP_DB from %q; want sitrep-prod/SITREP_DB", ref)
	}
	var j job
	r.hook(t, "Job").decode(t, &j)
	if _, ref, _ := j.Spec.Template.Spec.Containers[0].env("SITREP_DB"); ref != "sitrep-prod/SITREP_DB" {
		t.Errorf("the migration Job's SITREP_DB from %q; want sitrep-prod/SITREP_DB", ref)
	}
}

// The config file: values' config becomes sitrep.yaml in a ConfigMap,
// mounted where SITREP_CONFIG says.
func TestChartConfig(t *testing.T) {
	r := mustRender(t, "--set-json", `config={"command":"inc","severities":[{"name":"sev1","cadence":"30m"}]}`, "--set", "env.SITREP_LOG_LEVEL=debug")
	cm := r.one(t, "ConfigMap")
	var data struct {
		Data map[string]string `yaml:"data"`
	}
	cm.decode(t, &data)
	var file map[string]any
	if err := yaml.Unmarshal([]byte(data.Data["sitrep.yaml"]), &file); err != nil || file["command"] != "inc" {
		t.Fatalf("the ConfigMap's sitrep.yaml is %q (%v); want the config values", data.Data["sitrep.yaml"], err)
	}
	d, c := r.sitrep(t)
	path, _, _ := c.env("SITREP_CONFIG")
	found := false
	for _, m := range c.VolumeMounts {
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil && v.ConfigMap.Name == cm.Metadata.Name && path == filepath.Join(m.MountPath, "sitrep.yaml") && m.ReadOnly {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("SITREP_CONFIG is %q, mounts %+v, volumes %+v; want the ConfigMap's sitrep.yaml mounted read-only there", path, c.VolumeMounts, d.Spec.Template.Spec.Volumes)
	}
	if v, _, _ := c.env("SITREP_LOG_LEVEL"); v != "debug" {
		t.Errorf("env.SITREP_LOG_LEVEL=debug became %q", v)
	}
}

// Kubernetes before 1.30 has no sleep action; the pause is left out there
// rather than making pods that cannot be created.
func TestChartPreStopOnOlderKubernetes(t *testing.T) {
	_, c := mustRender(t, "--kube-version", "1.29.0").sitrep(t)
	if c.Lifecycle != nil {
		t.Errorf("on Kubernetes 1.29 the container has lifecycle %+v", c.Lifecycle)
	}
}

// Values the chart must refuse, each with what was wrong and what to do.
func TestChartRefuses(t *testing.T) {
	set := func(kv ...string) []string {
		var out []string
		for _, s := range kv {
			out = append(out, "--set", s)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"SQLite with two replicas", append(slices.Clone(required), set("secrets.values.SITREP_DB=/data/sitrep.db", "replicaCount=2")...), "SITREP_DB is not a postgres:// URL"},
		{"SQLite with one replica", append(slices.Clone(required), set("secrets.values.SITREP_DB=sqlite:sitrep.db", "replicaCount=1")...), "docker-compose.yml"},
		{"no database", set("secrets.values.SLACK_BOT_TOKEN=x", "secrets.values.SLACK_SIGNING_SECRET=y"), "SITREP_DB is empty"},
		{"no bot token", set("secrets.values.SITREP_DB="+testDB, "secrets.values.SLACK_SIGNING_SECRET=y"), "SLACK_BOT_TOKEN is empty"},
		{"no signing secret or app token", set("secrets.values.SITREP_DB="+testDB, "secrets.values.SLACK_BOT_TOKEN=x"), "SLACK_SIGNING_SECRET is empty"},
		{"a misspelt secret", append(slices.Clone(required), set("secrets.values.SLACK_BOT_TOKN=x")...), "SLACK_BOT_TOKN is not one of Sitrep's secret settings"},
		{"a plain setting as a secret", append(slices.Clone(required), set("secrets.values.SITREP_LOG_LEVEL=debug")...), "is not secret: set it under env"},
		{"a secret in env", append(slices.Clone(required), set("env.SLACK_BOT_TOKEN=x")...), "env.SLACK_BOT_TOKEN is a secret"},
		{"the chart's own setting in env", append(slices.Clone(required), set("env.SITREP_ADDR=:9000")...), "the chart's to set"},
		{"a misspelt setting in env", append(slices.Clone(required), set("env.SITREP_LOGLEVEL=debug")...), "SITREP_LOGLEVEL is not a setting Sitrep reads"},
		{"no replicas", append(slices.Clone(required), set("replicaCount=0")...), "replicaCount"},
		{"a budget no drain can meet", append(slices.Clone(required), set("replicaCount=2", "podDisruptionBudget.minAvailable=2")...), "keep it below replicaCount"},
		{"a misspelt top-level value", append(slices.Clone(required), set("replicas=3")...), "'replicas' not allowed"},
		{"an Ingress without a host", append(slices.Clone(required), set("ingress.enabled=true", "ingress.host=")...), "ingress.host is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render(t, tc.args...)
			if err == nil {
				t.Fatalf("helm template %q succeeded; want it refused", tc.args)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("helm template %q: %v\nwant a message with %q", tc.args, err, tc.want)
			}
		})
	}
}

// The settings the chart knows (its lists of secret and plain settings)
// are the ones cmd/sitrep reads, both ways: the chart invents no names,
// and a secret setting added to Sitrep is refused by the chart until it is
// added there too.
func TestChartSettingsAreSitreps(t *testing.T) {
	listed := func(arg, marker string) []string {
		t.Helper()
		_, err := render(t, append(slices.Clone(required), "--set", arg)...)
		if err == nil {
			t.Fatalf("%s was taken", arg)
		}
		m := regexp.MustCompile(regexp.QuoteMeta(marker) + ` \(([A-Z0-9_, ]+)\)`).FindStringSubmatch(err.Error())
		if m == nil {
			t.Fatalf("%s: %v; want the list of settings in the message", arg, err)
		}
		return strings.Split(m[1], ", ")
	}
	secrets := listed("secrets.values.NOT_A_SETTING=x", "is not one of Sitrep's secret settings")
	plain := listed("env.SITREP_NOT_A_SETTING=x", "is not a setting Sitrep reads that env may set")

	read := sitrepSettings(t)
	for _, name := range slices.Concat(secrets, plain) {
		if !read[name] {
			t.Errorf("the chart lists %s, which cmd/sitrep does not read", name)
		}
	}
	// The chart sets these itself; SITREP_CPUPROFILE writes a file, and
	// the root filesystem is read-only.
	own := []string{"SITREP_ADDR", "SITREP_STATUS_ADDR", "SITREP_CONFIG", "SITREP_CPUPROFILE"}
	secretName := regexp.MustCompile(`TOKEN|SECRET|_KEY$|^SITREP_DB$`)
	for _, name := range slices.Sorted(maps.Keys(read)) {
		switch {
		case secretName.MatchString(name) && !slices.Contains(secrets, name):
			t.Errorf("cmd/sitrep reads %s, a secret the chart does not take in secrets.values", name)
		case !secretName.MatchString(name) && !slices.Contains(plain, name) && !slices.Contains(own, name):
			t.Errorf("cmd/sitrep reads %s, which the chart's env does not take", name)
		}
	}
}

// sitrepSettings are the environment variables cmd/sitrep reads: its
// getenv("NAME") calls, and SITREP_HOOK_SECRET_<NAME> for each source and
// tracker that hookSecretVar is called for.
func sitrepSettings(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../cmd/sitrep/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("cmd/sitrep's source: %v", err)
	}
	var src strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, "playground.go") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(raw)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`getenv\("([A-Z0-9_]+)"\)`).FindAllStringSubmatch(src.String(), -1) {
		out[m[1]] = true
	}
	// The sources and trackers whose hooks take a secret.
	sources := regexp.MustCompile(`alertSources = \[\]string\{([^}]*)\}`).FindStringSubmatch(src.String())
	if sources == nil {
		t.Fatal("cmd/sitrep: no alertSources list")
	}
	names := regexp.MustCompile(`"([a-z]+)"`).FindAllStringSubmatch(sources[1], -1)
	names = append(names, regexp.MustCompile(`hookSecretVar\("([a-z]+)"\)`).FindAllStringSubmatch(src.String(), -1)...)
	// Trackers' hooks: hookSecretVar(name) over the configured trackers.
	names = append(names, regexp.MustCompile(`t\.Names = append\(t\.Names, "([a-z]+)"\)`).FindAllStringSubmatch(src.String(), -1)...)
	for _, n := range names {
		out["SITREP_HOOK_SECRET_"+strings.ToUpper(n[1])] = true
	}
	if len(out) < 30 {
		t.Fatalf("found only %d settings in cmd/sitrep: %v", len(out), slices.Sorted(maps.Keys(out)))
	}
	return out
}

// NOTES.txt renders, and points at the migration Job's log. helm template
// leaves NOTES.txt out; install's client-side dry run, which needs no
// cluster, prints it.
func TestChartNotes(t *testing.T) {
	cmd := exec.Command(helm(t), append([]string{"install", "rel", chartDir, "--namespace", "ops", "--dry-run=client"}, required...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helm install --dry-run=client: %v\n%s", err, out)
	}
	_, notes, ok := strings.Cut(string(out), "\nNOTES:\n")
	if !ok {
		t.Fatalf("helm install --dry-run=client printed no NOTES:\n%s", out)
	}
	for _, want := range []string{"deployment/rel-sitrep", "job/rel-sitrep-migrate", "/metrics"} {
		if !strings.Contains(notes, want) {
			t.Errorf("NOTES.txt does not mention %s:\n%s", want, notes)
		}
	}
	for _, v := range []string{testDB, testToken, testSecret} {
		if strings.Contains(notes, v) {
			t.Errorf("NOTES.txt shows a secret value:\n%s", notes)
		}
	}
}
