// The pod sandbox's init process for the test node's containerd (its sandbox_image), built here: no registry.
module agentspec.io/e2e/testbin/pause

go 1.24.0
