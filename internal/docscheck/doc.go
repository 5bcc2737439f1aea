// Package docscheck holds the tests that keep the user documentation in step with the code:
// every status condition reason the controller writes is explained on the troubleshooting page,
// and every page in docs/ is linked from the README.
package docscheck
