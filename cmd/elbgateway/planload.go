package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/elbgateway/elbgateway/internal/controller"
)

// planKind says how `elbgateway plan` reads one kind: the versions it accepts and the version it
// converts them to. Every accepted version of a kind has the same JSON shape, so converting is
// changing apiVersion, as the API server does for these CRDs.
type planKind struct {
	group    string
	versions []string
	// to is the version the controller's scheme holds.
	to string
	// namespaced kinds get --namespace when they have none.
	namespaced bool
	// route kinds are read as unstructured objects, as the controller caches them.
	route bool
}

const (
	gatewayAPIGroup = "gateway.networking.k8s.io"
	awsAPIGroup     = "gateway.k8s.aws"
)

// planKinds are the kinds plan reads.
var planKinds = map[string]planKind{
	"GatewayClass":              {group: gatewayAPIGroup, versions: []string{"v1", "v1beta1"}, to: "v1"},
	"Gateway":                   {group: gatewayAPIGroup, versions: []string{"v1", "v1beta1"}, to: "v1", namespaced: true},
	"HTTPRoute":                 {group: gatewayAPIGroup, versions: []string{"v1", "v1beta1"}, to: "v1", namespaced: true, route: true},
	"GRPCRoute":                 {group: gatewayAPIGroup, versions: []string{"v1", "v1alpha2"}, to: "v1", namespaced: true, route: true},
	"TCPRoute":                  {group: gatewayAPIGroup, versions: []string{"v1", "v1alpha2"}, to: "v1", namespaced: true, route: true},
	"UDPRoute":                  {group: gatewayAPIGroup, versions: []string{"v1", "v1alpha2"}, to: "v1", namespaced: true, route: true},
	"TLSRoute":                  {group: gatewayAPIGroup, versions: []string{"v1", "v1alpha3", "v1alpha2"}, to: "v1", namespaced: true, route: true},
	"ListenerSet":               {group: gatewayAPIGroup, versions: []string{"v1"}, to: "v1", namespaced: true},
	"ReferenceGrant":            {group: gatewayAPIGroup, versions: []string{"v1", "v1beta1", "v1alpha2"}, to: "v1beta1", namespaced: true},
	"LoadBalancerConfiguration": {group: awsAPIGroup, versions: []string{"v1", "v1beta1"}, to: "v1", namespaced: true},
	"TargetGroupConfiguration":  {group: awsAPIGroup, versions: []string{"v1", "v1beta1"}, to: "v1", namespaced: true},
	"ListenerRuleConfiguration": {group: awsAPIGroup, versions: []string{"v1", "v1beta1"}, to: "v1", namespaced: true},
	"Service":                   {group: "", versions: []string{"v1"}, to: "v1", namespaced: true},
	"Namespace":                 {group: "", versions: []string{"v1"}, to: "v1"},
	"Node":                      {group: "", versions: []string{"v1"}, to: "v1"},
	"EndpointSlice":             {group: "discovery.k8s.io", versions: []string{"v1"}, to: "v1", namespaced: true},
}

// ignoredKinds are common Kubernetes kinds that do not shape the AWS resources; plan skips them
// so a whole application's manifests can be planned.
var ignoredKinds = map[string]bool{
	"ClusterRole": true, "ClusterRoleBinding": true, "ConfigMap": true, "CronJob": true,
	"CustomResourceDefinition": true, "DaemonSet": true, "Deployment": true, "Endpoints": true,
	"HorizontalPodAutoscaler": true, "Ingress": true, "IngressClass": true, "Job": true,
	"NetworkPolicy": true, "Pod": true, "PodDisruptionBudget": true, "ReplicaSet": true,
	"Role": true, "RoleBinding": true, "Secret": true, "ServiceAccount": true, "StatefulSet": true,
}

// loaded are the objects of the manifests plan reads.
type loaded struct {
	objects []client.Object
	// skipped names the documents of ignored kinds.
	skipped []string
}

// document is one YAML document of a manifest file.
type document struct {
	source string // file:index
	json   []byte
}

// loadManifests reads files and directories (their *.yaml, *.yml and *.json files, recursively)
// and decodes every document strictly. All problems are reported together, each naming the
// document, the object and the field.
func loadManifests(paths []string, namespace string) (*loaded, error) {
	files, err := manifestFiles(paths)
	if err != nil {
		return nil, err
	}
	scheme, err := controller.NewScheme()
	if err != nil {
		return nil, err
	}
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	out := &loaded{}
	var problems []string
	namespaces := map[string]bool{}
	for _, f := range files {
		docs, err := splitDocuments(f)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		for _, d := range docs {
			obj, skipped, err := decodeDocument(decoder, d, namespace)
			switch {
			case err != nil:
				problems = append(problems, err.Error())
			case skipped != "":
				out.skipped = append(out.skipped, skipped)
			default:
				out.objects = append(out.objects, obj)
				if obj.GetNamespace() != "" {
					namespaces[obj.GetNamespace()] = true
				}
			}
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	out.objects = append(out.objects, missingNamespaces(out.objects, namespaces)...)
	return out, nil
}

// manifestFiles expands directories into their manifest files, sorted.
func manifestFiles(paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, errors.New("no manifests: pass -f FILE or -f DIRECTORY")
	}
	var out []string
	for _, p := range paths {
		if p == stdinPath {
			out = append(out, p)
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
				if !d.IsDir() {
					found = append(found, path)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no *.yaml, *.yml or *.json files", p)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// stdinPath is the -f value that reads the manifests from standard input (once).
const stdinPath = "-"

// planStdin is what -f - reads; tests replace it.
var planStdin io.Reader = os.Stdin

func readManifestFile(path string) ([]byte, error) {
	if path != stdinPath {
		return os.ReadFile(path)
	}
	raw, err := io.ReadAll(planStdin)
	if err != nil {
		return nil, fmt.Errorf("reading standard input: %w", err)
	}
	return raw, nil
}

// splitDocuments returns the non-empty documents of a file as JSON.
func splitDocuments(path string) ([]document, error) {
	raw, err := readManifestFile(path)
	if err != nil {
		return nil, err
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	var out []document
	for i := 1; ; i++ {
		chunk, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: reading document %d: %w", path, i, err)
		}
		js, err := yaml.YAMLToJSONStrict(chunk)
		if err != nil {
			return nil, fmt.Errorf("%s document %d: not valid YAML: %w", path, i, err)
		}
		if t := bytes.TrimSpace(js); len(t) == 0 || string(t) == "null" {
			continue
		}
		out = append(out, document{source: fmt.Sprintf("%s document %d", path, i), json: js})
	}
}

// decodeDocument decodes one document into the controller's types. It returns a description
// instead of an object for an ignored kind.
func decodeDocument(decoder runtime.Decoder, d document, namespace string) (client.Object, string, error) {
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(d.json); err != nil {
		return nil, "", fmt.Errorf("%s: not a Kubernetes object (apiVersion and kind are required): %v", d.source, err)
	}
	gvk := u.GroupVersionKind()
	id := objectID(u.GetKind(), u.GetNamespace(), u.GetName())
	k, ok := planKinds[gvk.Kind]
	if !ok || k.group != gvk.Group {
		if ignoredKinds[gvk.Kind] {
			return nil, fmt.Sprintf("%s: %s (does not shape AWS resources)", d.source, id), nil
		}
		return nil, "", fmt.Errorf("%s: %s: unknown kind %s: plan reads %s", d.source, id, gvk.GroupKind(), knownKinds())
	}
	if !contains(k.versions, gvk.Version) {
		return nil, "", fmt.Errorf("%s: %s: apiVersion %s is not a version of %s; use %s", d.source, id, u.GetAPIVersion(),
			gvk.Kind, strings.Join(groupVersions(k), " or "))
	}
	if u.GetName() == "" {
		return nil, "", fmt.Errorf("%s: %s: metadata.name is required", d.source, id)
	}
	if k.namespaced && u.GetNamespace() == "" {
		u.SetNamespace(namespace)
	}
	if !k.namespaced {
		u.SetNamespace("")
	}
	u.SetAPIVersion(schema.GroupVersion{Group: k.group, Version: k.to}.String())
	id = objectID(gvk.Kind, u.GetNamespace(), u.GetName())
	js, err := u.MarshalJSON()
	if err != nil {
		return nil, "", err
	}
	obj, _, err := decoder.Decode(js, nil, nil)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %s: %s", d.source, id, strings.TrimPrefix(err.Error(), "strict decoding error: "))
	}
	if !k.route {
		return obj.(client.Object), "", nil
	}
	// Routes go to the controller as unstructured objects, as its cache holds them.
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, "", err
	}
	r := &unstructured.Unstructured{Object: m}
	gvkTo, _ := controller.RouteGVK(gvk.Kind)
	r.SetGroupVersionKind(gvkTo)
	return r, "", nil
}

// missingNamespaces returns a Namespace object for each namespace the objects use that the
// manifests do not define, labelled as the API server labels namespaces.
func missingNamespaces(objs []client.Object, used map[string]bool) []client.Object {
	for _, o := range objs {
		if ns, ok := o.(*corev1.Namespace); ok {
			delete(used, ns.Name)
		}
	}
	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]client.Object, 0, len(names))
	for _, n := range names {
		ns := &corev1.Namespace{}
		ns.Name = n
		ns.Labels = map[string]string{corev1.LabelMetadataName: n}
		out = append(out, ns)
	}
	return out
}

func objectID(kind, namespace, name string) string {
	if kind == "" {
		kind = "object"
	}
	if name == "" {
		name = "(no name)"
	}
	if namespace == "" {
		return kind + " " + name
	}
	return kind + " " + namespace + "/" + name
}

func knownKinds() string {
	names := make([]string, 0, len(planKinds))
	for k := range planKinds {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func groupVersions(k planKind) []string {
	out := make([]string, 0, len(k.versions))
	for _, v := range k.versions {
		out = append(out, schema.GroupVersion{Group: k.group, Version: v}.String())
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
