// Package packaging holds no code: it is the home of the .deb/.rpm build
// (nfpm.yaml, build.sh, scripts/), the Packer template and the cloud-init
// example, and of the tests that build, install, upgrade and remove the
// package on this machine (package_test.go). See docs/packaging.md.
package packaging
