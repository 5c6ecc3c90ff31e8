# The platform team's dashboard. Its body is generated from the pipeline files by `dwh compile`
# (infra/monitoring/platform.dashboard.json: a widget set per pipeline and one widget per Glue
# job); Terraform only fills in the names of this environment. A resource that is not deployed
# (the other kind of warehouse, MWAA or the vault when disabled) gets a name that matches no
# metric, so its widget stays empty rather than the dashboard failing.

data "aws_region" "current" {}

locals {
  not_deployed = "${var.name_prefix}-not-deployed"

  # Every ${...} of the template, and nothing else (tests/infra/test_cloudwatch_dashboard.py).
  dashboard_vars = {
    region              = data.aws_region.current.region
    name_prefix         = var.name_prefix
    mwaa_environment    = coalesce(var.mwaa_environment_name, local.not_deployed)
    state_machine_arns  = var.state_machine_arns
    redshift_cluster_id = var.redshift_cluster_id != "" ? var.redshift_cluster_id : local.not_deployed
    redshift_workgroup  = var.redshift_workgroup_name != "" ? var.redshift_workgroup_name : local.not_deployed
    raw_bucket          = var.raw_bucket_name
    raw_metrics_filter  = aws_s3_bucket_metric.raw_landed.name
    backup_vault        = coalesce(var.backup_vault_name, local.not_deployed)
  }
}

# S3 publishes request metrics (PutRequests: the raw objects landed) only for a bucket with a
# metrics configuration; this one covers the whole bucket.
resource "aws_s3_bucket_metric" "raw_landed" {
  bucket = var.raw_bucket_name
  name   = "raw-landed"
}

resource "aws_cloudwatch_dashboard" "platform" {
  dashboard_name = "${var.name_prefix}-platform"
  dashboard_body = templatefile(var.dashboard_template_file, local.dashboard_vars)
}
