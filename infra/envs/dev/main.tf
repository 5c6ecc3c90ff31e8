# Development: smallest sizes, single NAT gateway, buckets destroyable, account-wide security
# services left to the organisation (only this environment's trail), no replication.

locals {
  environment = "dev"
}

module "platform" {
  source = "../../modules/platform"
  providers = {
    aws         = aws
    aws.replica = aws.replica
  }

  project     = var.project
  environment = local.environment
  repo_root   = abspath("${path.root}/../../..")

  vpc_cidr_block         = "10.40.0.0/16"
  one_nat_gateway_per_az = false
  force_destroy          = true
  raw_retention_days     = 90
  log_retention_days     = 30
  enable_replication     = false
  # Object Lock in GOVERNANCE mode, shorter than the expiry above.
  object_lock_mode      = "GOVERNANCE"
  raw_object_lock_days  = 30
  logs_object_lock_days = 7

  redshift_serverless      = false
  redshift_node_type       = "ra3.xlplus"
  redshift_number_of_nodes = 1

  mwaa_environment_class = "mw1.small"
  mwaa_min_workers       = 1
  mwaa_max_workers       = 2

  stepfunctions_schedule_state = var.stepfunctions_schedule_state
  alert_emails                 = var.alert_emails
  slack_team_id                = var.slack_team_id
  slack_channel_id             = var.slack_channel_id
  slack_webhook_url            = var.slack_webhook_url

  enable_cloudtrail  = true
  enable_config      = false
  enable_guardduty   = false
  enable_securityhub = false
  enable_backup      = false
  # Vault Lock in governance mode (no changeable_for_days): never becomes immutable here.
  backup_vault_lock_changeable_for_days = null

  enable_quicksight                = var.enable_quicksight
  quicksight_owner_principal_arns  = var.quicksight_owner_principal_arns
  quicksight_viewer_principal_arns = var.quicksight_viewer_principal_arns
}
