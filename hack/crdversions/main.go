// Command crdversions adds a served, deprecated v1beta1 version to each CRD that controller-gen
// wrote for api/v1. The two versions share one schema, so the API server converts between them
// by changing apiVersion only, and manifests written for v1beta1 (as the AWS Load Balancer
// Controller's documentation shows them) apply unchanged.
//
// Usage: crdversions DIR
package main

import (
	"fmt"
	"os"
	"path/filepath"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: crdversions DIR")
		os.Exit(2)
	}
	files, err := filepath.Glob(filepath.Join(os.Args[1], "*.yaml"))
	if err != nil || len(files) == 0 {
		fmt.Fprintf(os.Stderr, "crdversions: no CRD files in %s\n", os.Args[1])
		os.Exit(1)
	}
	for _, f := range files {
		if err := addV1beta1(f); err != nil {
			fmt.Fprintf(os.Stderr, "crdversions: %s: %v\n", f, err)
			os.Exit(1)
		}
	}
}

func addV1beta1(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		return err
	}
	var v1 *apiextensionsv1.CustomResourceDefinitionVersion
	for i := range crd.Spec.Versions {
		switch crd.Spec.Versions[i].Name {
		case "v1beta1":
			return nil // already there
		case "v1":
			v1 = &crd.Spec.Versions[i]
		}
	}
	if v1 == nil {
		return fmt.Errorf("no v1 version")
	}
	beta := *v1.DeepCopy()
	beta.Name = "v1beta1"
	beta.Storage = false
	beta.Served = true
	beta.Deprecated = true
	warning := "gateway.k8s.aws/v1beta1 " + crd.Spec.Names.Kind + " is deprecated; use gateway.k8s.aws/v1"
	beta.DeprecationWarning = &warning
	crd.Spec.Versions = append(crd.Spec.Versions, beta)
	crd.Status = apiextensionsv1.CustomResourceDefinitionStatus{}
	out, err := yaml.Marshal(&crd)
	if err != nil {
		return err
	}
	// controller-gen leaves out status; keep the file free of an empty one too.
	var generic map[string]any
	if err := yaml.Unmarshal(out, &generic); err != nil {
		return err
	}
	delete(generic, "status")
	if md, ok := generic["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	out, err = yaml.Marshal(generic)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte("---\n"), out...), 0o644)
}
