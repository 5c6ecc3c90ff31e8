# Production: two-node cluster, larger MWAA, a NAT gateway per availability zone, every security
# service, backups and cross-region replication of the lake, QuickSight on the marts.

locals {
  environment = "prod"
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

  vpc_cidr_block         = "10.50.0.0/16"
  one_nat_gateway_per_az = true
  force_destroy          = false
  raw_retention_days     = 730
  log_retention_days     = 365
  enable_replication     = true
  object_lock_mode       = "GOVERNANCE"
  raw_object_lock_days   = 365
  logs_object_lock_days  = 180

  redshift_serverless                     = false
  redshift_node_type                      = "ra3.xlplus"
  redshift_number_of_nodes                = 2
  redshift_snapshot_retention_days        = 14
  redshift_manual_snapshot_retention_days = 90

  mwaa_environment_class = "mw1.medium"
  mwaa_min_workers       = 2
  mwaa_max_workers       = 10

  stepfunctions_schedule_state = var.stepfunctions_schedule_state
  alert_emails                 = var.alert_emails
  slack_team_id                = var.slack_team_id
  slack_channel_id             = var.slack_channel_id
  slack_webhook_url            = var.slack_webhook_url

  enable_cloudtrail     = true
  enable_config         = true
  enable_guardduty      = true
  enable_securityhub    = true
  enable_backup         = true
  backup_retention_days = 35
  # Vault Lock: 7 to 365 days, immutable (compliance mode) 14 days after the first apply.
  backup_vault_min_retention_days       = 7
  backup_vault_max_retention_days       = 365
  backup_vault_lock_changeable_for_days = 14

  enable_quicksight                = var.enable_quicksight
  quicksight_owner_principal_arns  = var.quicksight_owner_principal_arns
  quicksight_viewer_principal_arns = var.quicksight_viewer_principal_arns
}
