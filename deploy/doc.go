// Package deploy holds what runs Sitrep elsewhere than on one machine: the
// Helm chart in helm/sitrep, and, with the compose files at the
// repository's root, the Caddyfile of docker-compose.postgres.yml's load
// balancer. Its tests render the chart with a real helm (SITREP_HELM) and
// check the manifests Kubernetes would be given.
package deploy
