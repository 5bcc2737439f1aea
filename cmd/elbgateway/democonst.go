package main

// demoRegion and demoCluster are the demo's AWS region and cluster name; the tests of every
// build use them too.
const (
	demoRegion  = "us-east-1"
	demoCluster = "elbgateway-demo"
)
