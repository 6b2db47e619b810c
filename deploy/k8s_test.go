package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/yaml"

	"github.com/newsroom/newsroom/deploy/internal/envscan"
	"github.com/newsroom/newsroom/deploy/localstack"
	"github.com/newsroom/newsroom/pkg/daemon"
)

// The Kubernetes manifests are validated offline, in three layers:
//
//  1. Schema: every object is validated against the Kubernetes OpenAPI
//     schema that kustomize's kyaml module embeds (Kubernetes v1.21.2, the
//     only one it ships), turned into a strict JSON Schema (no unknown
//     fields, required fields, types) and checked with a JSON Schema
//     validator. No network, no kubeconform schema download.
//  2. Types: every object is decoded strictly (unknown or duplicate fields
//     are errors) into the typed structs of k8s.io/api at the version this
//     module requires, which catches fields newer than the schema and
//     malformed quantities; object metadata goes through apimachinery's
//     own ObjectMeta validation (names, labels, annotations).
//  3. Contract: what the schema cannot know — selectors select the pods,
//     probes hit pkg/daemon's routes on the port the service listens on,
//     the environment matches what each service's source reads, the pods
//     run as non-root with a read-only root, resources are bounded, and
//     the scale-out overlay runs N>1 instances against R3 streams.
func TestKubernetesManifests(t *testing.T) {
	root := repoRoot(t)
	services := loadServices(t, root)
	for _, tc := range []struct {
		dir      string
		replicas int32
		streamR  string
	}{
		{"deploy/k8s/base", 1, "1"},
		{"deploy/k8s/overlays/scale-out", 3, "3"},
	} {
		t.Run(filepath.Base(tc.dir), func(t *testing.T) {
			objs := build(t, filepath.Join(root, tc.dir))
			validateSchema(t, objs)
			m := decodeTyped(t, objs)
			checkContract(t, m, services, tc.replicas, tc.streamR)
		})
	}
}

type object struct {
	id   string
	json []byte
}

func build(t *testing.T, dir string) []object {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out []object
	for _, r := range rm.Resources() {
		b, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, object{id: r.CurId().String(), json: b})
	}
	if len(out) == 0 {
		t.Fatalf("kustomize build %s: no objects", dir)
	}
	return out
}

var (
	schemaOnce sync.Once
	schemaDoc  any
	schemaGVK  map[string]string // "apps/v1 Deployment" → definition name
	schemaErr  error
)

// k8sSchema turns kyaml's embedded Kubernetes OpenAPI definitions into one
// JSON Schema document, strict like kubeconform's "-strict" schemas.
func k8sSchema() (any, map[string]string, error) {
	schemaOnce.Do(func() {
		raw, err := json.Marshal(openapi.Schema())
		if err != nil {
			schemaErr = err
			return
		}
		var doc struct {
			Definitions map[string]map[string]any `json:"definitions"`
		}
		if schemaErr = json.Unmarshal(raw, &doc); schemaErr != nil {
			return
		}
		schemaGVK = map[string]string{}
		for name, def := range doc.Definitions {
			if _, ok := def["properties"]; ok && def["additionalProperties"] == nil && def["x-kubernetes-preserve-unknown-fields"] == nil {
				def["additionalProperties"] = false
			}
			gvks, _ := def["x-kubernetes-group-version-kind"].([]any)
			for _, g := range gvks {
				m, _ := g.(map[string]any)
				apiVersion := fmt.Sprint(m["version"])
				if group := fmt.Sprint(m["group"]); group != "" {
					apiVersion = group + "/" + apiVersion
				}
				schemaGVK[apiVersion+" "+fmt.Sprint(m["kind"])] = name
			}
		}
		// Kubernetes accepts a number or a string for these.
		doc.Definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = map[string]any{
			"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
		doc.Definitions["io.k8s.apimachinery.pkg.api.resource.Quantity"] = map[string]any{
			"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}
		b, err := json.Marshal(map[string]any{"definitions": doc.Definitions})
		if err != nil {
			schemaErr = err
			return
		}
		schemaDoc, schemaErr = jsonschema.UnmarshalJSON(bytes.NewReader(b))
	})
	return schemaDoc, schemaGVK, schemaErr
}

func validateSchema(t *testing.T, objs []object) {
	t.Helper()
	doc, gvks, err := k8sSchema()
	if err != nil {
		t.Fatal(err)
	}
	if len(gvks) < 100 {
		t.Fatalf("the embedded Kubernetes schema has %d kinds; it did not load", len(gvks))
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	if err := c.AddResource("k8s.json", doc); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		var tm metav1.TypeMeta
		if err := json.Unmarshal(o.json, &tm); err != nil {
			t.Fatal(err)
		}
		def, ok := gvks[tm.APIVersion+" "+tm.Kind]
		if !ok {
			t.Errorf("%s: %s %s is not a Kubernetes kind", o.id, tm.APIVersion, tm.Kind)
			continue
		}
		sch, err := c.Compile("k8s.json#/definitions/" + def)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(o.json))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s does not validate against %s:\n%v", o.id, def, err)
		}
	}
}

// manifests are the built objects, typed.
type manifests struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	configMaps  []*corev1.ConfigMap
	pdbs        []*policyv1.PodDisruptionBudget
	namespaces  []*corev1.Namespace
}

func decodeTyped(t *testing.T, objs []object) manifests {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	dec := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	m := manifests{deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{}}
	for _, o := range objs {
		obj, _, err := dec.Decode(o.json, nil, nil)
		if err != nil {
			t.Errorf("%s: strict decode: %v", o.id, err)
			continue
		}
		var meta *metav1.ObjectMeta
		namespaced, nameFn := true, apivalidation.NameIsDNSSubdomain
		switch v := obj.(type) {
		case *appsv1.Deployment:
			m.deployments[v.Name], meta = v, &v.ObjectMeta
		case *corev1.Service:
			m.services[v.Name], meta = v, &v.ObjectMeta
			nameFn = apivalidation.NameIsDNS1035Label
		case *corev1.ConfigMap:
			m.configMaps, meta = append(m.configMaps, v), &v.ObjectMeta
		case *policyv1.PodDisruptionBudget:
			m.pdbs, meta = append(m.pdbs, v), &v.ObjectMeta
		case *corev1.Namespace:
			m.namespaces, meta = append(m.namespaces, v), &v.ObjectMeta
			namespaced, nameFn = false, apivalidation.NameIsDNSLabel
		default:
			t.Errorf("%s: no contract check for %T; add one", o.id, obj)
			continue
		}
		if meta.Namespace == "" {
			// Base manifests leave the namespace to kubectl or the overlay.
			meta = meta.DeepCopy()
			if namespaced {
				meta.Namespace = "default"
			}
		}
		for _, err := range apivalidation.ValidateObjectMeta(meta, namespaced, nameFn, field.NewPath("metadata")) {
			t.Errorf("%s: %v", o.id, err)
		}
	}
	return m
}

func checkContract(t *testing.T, m manifests, services map[string]envscan.Service, replicas int32, streamReplicas string) {
	t.Helper()
	if len(m.configMaps) != 1 {
		t.Fatalf("%d ConfigMaps, want newsroom-config only", len(m.configMaps))
	}
	config := m.configMaps[0]
	if got := config.Data["NEWSROOM_REPLICAS"]; got != streamReplicas {
		t.Errorf("NEWSROOM_REPLICAS=%q: streams and buckets at %s replicas wanted", got, streamReplicas)
	}
	if u, err := url.Parse(config.Data["NATS_URL"]); err != nil || u.Scheme != "nats" || u.Port() != "4222" ||
		!(u.Hostname() == "nats" || strings.HasPrefix(u.Hostname(), "nats.")) {
		t.Errorf("NATS_URL=%q, want the NATS chart's client Service nats:4222", config.Data["NATS_URL"])
	}

	for _, name := range localstack.ServiceNames() {
		code := services[name]
		d, ok := m.deployments[name]
		if !ok {
			t.Errorf("no Deployment %s", name)
			continue
		}
		where := "Deployment " + name
		if d.Spec.Replicas == nil || *d.Spec.Replicas != replicas {
			t.Errorf("%s: replicas %v, want %d", where, d.Spec.Replicas, replicas)
		}
		pod := d.Spec.Template
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			t.Errorf("%s: selector %v does not select its pods %v", where, d.Spec.Selector, pod.Labels)
		}
		if len(pod.Spec.Containers) != 1 {
			t.Errorf("%s: %d containers, want 1", where, len(pod.Spec.Containers))
			continue
		}
		c := pod.Spec.Containers[0]
		ports := map[string]int32{}
		for _, p := range c.Ports {
			if errs := validation.IsValidPortName(p.Name); len(errs) > 0 {
				t.Errorf("%s: port name %q: %v", where, p.Name, errs)
			}
			ports[p.Name] = p.ContainerPort
		}
		if fmt.Sprint(ports["http"]) != code.Port {
			t.Errorf("%s: container port http=%d; the service listens on %s", where, ports["http"], code.Port)
		}
		checkProbe(t, where+" liveness", c.LivenessProbe, daemon.HealthPath, ports, code.Port)
		checkProbe(t, where+" readiness", c.ReadinessProbe, daemon.ReadyPath, ports, code.Port)

		env := map[string]corev1.EnvVar{}
		var keys []string
		for _, e := range c.Env {
			if errs := validation.IsEnvVarName(e.Name); len(errs) > 0 {
				t.Errorf("%s: env %q: %v", where, e.Name, errs)
			}
			env[e.Name] = e
			keys = append(keys, e.Name)
			if ref := e.ValueFrom; ref != nil && ref.ConfigMapKeyRef != nil {
				if ref.ConfigMapKeyRef.Name != config.Name {
					t.Errorf("%s: %s refers to ConfigMap %q, not the generated %q", where, e.Name, ref.ConfigMapKeyRef.Name, config.Name)
				} else if _, ok := config.Data[ref.ConfigMapKeyRef.Key]; !ok {
					t.Errorf("%s: %s refers to key %q missing from %s", where, e.Name, ref.ConfigMapKeyRef.Key, config.Name)
				}
			}
		}
		// POD_NAME and POD_NAMESPACE feed OTEL_RESOURCE_ATTRIBUTES.
		for _, err := range code.Check(keys, "POD_NAME", "POD_NAMESPACE") {
			t.Error(err)
		}
		if env["OTEL_SERVICE_NAME"].Value != name {
			t.Errorf("%s: OTEL_SERVICE_NAME=%q", where, env["OTEL_SERVICE_NAME"].Value)
		}
		if env["HTTP_ADDR"].Value != "0.0.0.0:"+code.Port {
			t.Errorf("%s: HTTP_ADDR=%q, want 0.0.0.0:%s", where, env["HTTP_ADDR"].Value, code.Port)
		}

		psc, sc := pod.Spec.SecurityContext, c.SecurityContext
		switch {
		case psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0:
			t.Errorf("%s: pod must run as a non-root uid", where)
		case psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
			t.Errorf("%s: no RuntimeDefault seccomp profile", where)
		case sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL":
			t.Errorf("%s: container must drop all capabilities, forbid privilege escalation and run on a read-only root", where)
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, okReq := c.Resources.Requests[r]
			lim, okLim := c.Resources.Limits[r]
			if !okReq || !okLim {
				t.Errorf("%s: %s request and limit both wanted", where, r)
			} else if req.Cmp(lim) > 0 {
				t.Errorf("%s: %s request %s above limit %s", where, r, req.String(), lim.String())
			}
		}

		s, ok := m.services[name]
		if !ok {
			t.Errorf("no Service %s", name)
			continue
		}
		if len(s.Spec.Selector) == 0 || !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(pod.Labels)) {
			t.Errorf("Service %s selects %v, not %s's pods %v", name, s.Spec.Selector, name, pod.Labels)
		}
		for _, p := range s.Spec.Ports {
			if _, ok := ports[p.TargetPort.String()]; !ok && fmt.Sprint(p.TargetPort.IntValue()) != code.Port {
				t.Errorf("Service %s targets port %s, which %s does not expose", name, p.TargetPort.String(), name)
			}
		}
	}
	for _, pdb := range m.pdbs {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		var matched bool
		for _, d := range m.deployments {
			matched = matched || (err == nil && !sel.Empty() && sel.Matches(labels.Set(d.Spec.Template.Labels)))
		}
		if !matched {
			t.Errorf("PodDisruptionBudget %s selects no Deployment's pods", pdb.Name)
		}
	}
	if replicas > 1 && len(m.pdbs) != len(localstack.ServiceNames()) {
		t.Errorf("%d PodDisruptionBudgets with %d replicas per service, want one per service", len(m.pdbs), replicas)
	}
}

func checkProbe(t *testing.T, where string, p *corev1.Probe, path string, ports map[string]int32, port string) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s: no HTTP probe", where)
		return
	}
	if p.HTTPGet.Path != path {
		t.Errorf("%s: probes %s, want %s", where, p.HTTPGet.Path, path)
	}
	got := p.HTTPGet.Port.String()
	if n, ok := ports[got]; ok {
		got = fmt.Sprint(n)
	}
	if got != port {
		t.Errorf("%s: probes port %s, want %s", where, p.HTTPGet.Port.String(), port)
	}
}

// TestNATSHelmValues checks the values given to the official NATS chart:
// a clustered JetStream of three servers on persistent volumes, one per
// node. (The chart itself is not available offline to render.)
func TestNATSHelmValues(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "k8s", "nats", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Config struct {
			Cluster struct {
				Enabled  bool `json:"enabled"`
				Replicas int  `json:"replicas"`
			} `json:"cluster"`
			JetStream struct {
				Enabled   bool `json:"enabled"`
				FileStore struct {
					Enabled bool `json:"enabled"`
					PVC     struct {
						Enabled bool   `json:"enabled"`
						Size    string `json:"size"`
					} `json:"pvc"`
				} `json:"fileStore"`
			} `json:"jetstream"`
		} `json:"config"`
		PodTemplate struct {
			TopologySpreadConstraints map[string]map[string]any `json:"topologySpreadConstraints"`
		} `json:"podTemplate"`
	}
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	c := v.Config
	if !c.Cluster.Enabled || c.Cluster.Replicas != 3 {
		t.Errorf("config.cluster: enabled %v replicas %d, want a cluster of 3", c.Cluster.Enabled, c.Cluster.Replicas)
	}
	if !c.JetStream.Enabled || !c.JetStream.FileStore.Enabled || !c.JetStream.FileStore.PVC.Enabled || c.JetStream.FileStore.PVC.Size == "" {
		t.Errorf("config.jetstream: %+v, want JetStream on file storage with a persistent volume", c.JetStream)
	}
	if _, ok := v.PodTemplate.TopologySpreadConstraints["kubernetes.io/hostname"]; !ok {
		t.Error("NATS servers are not spread across nodes")
	}
}
