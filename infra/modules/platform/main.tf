# The whole platform of one environment, composed from the modules. The environments
# (infra/envs/<env>) only choose sizes and toggles. Every name derives from one prefix,
# <project>-<environment>; Glue jobs, crawlers, state machines and schedules come from the
# pipeline files through the pipelines module.

locals {
  name_prefix = "${var.project}-${var.environment}"
  repo_root   = var.repo_root
}

module "pipelines" {
  source            = "../pipelines"
  pipelines_dir     = "${local.repo_root}/include/pipelines"
  stepfunctions_dir = "${local.repo_root}/infra/stepfunctions"
}

# The state machines address the warehouse the way the pipelines say (redshift_api_target); it
# has to be the kind of warehouse deployed.
resource "terraform_data" "pipelines_match_warehouse" {
  input = module.pipelines.pipelines

  lifecycle {
    precondition {
      condition = alltrue([
        for p, sm in module.pipelines.state_machines : sm.redshift_api_target == (var.redshift_serverless ? "workgroup" : "cluster")
      ])
      error_message = "With redshift_serverless = ${var.redshift_serverless} every pipeline needs redshift_api_target: ${var.redshift_serverless ? "workgroup" : "cluster"}."
    }
  }
}

module "kms" {
  source      = "../kms"
  name_prefix = local.name_prefix
}

module "network" {
  source                 = "../network"
  name_prefix            = local.name_prefix
  cidr_block             = var.vpc_cidr_block
  enable_nat_gateway     = var.enable_nat_gateway
  one_nat_gateway_per_az = var.one_nat_gateway_per_az
  interface_endpoints    = var.interface_endpoints
  kms_key_arn            = module.kms.data_key_arn
  log_retention_days     = var.log_retention_days
}

module "storage" {
  source = "../storage"
  providers = {
    aws         = aws
    aws.replica = aws.replica
  }
  name_prefix        = local.name_prefix
  kms_key_arn        = module.kms.data_key_arn
  force_destroy      = var.force_destroy
  raw_retention_days = var.raw_retention_days
  log_retention_days = var.log_retention_days
  enable_replication = var.enable_replication
  # S3 Object Lock of the raw and logs (audit) buckets.
  object_lock_mode      = var.object_lock_mode
  raw_object_lock_days  = var.raw_object_lock_days
  logs_object_lock_days = var.logs_object_lock_days
  # The MWAA bucket logs to the same access-log bucket, whose policy admits named sources only.
  log_source_bucket_arns = [module.mwaa.bucket_arn]
}

locals {
  buckets       = module.storage.bucket_names
  raw_uri       = "s3://${local.buckets["raw"]}"
  processed_uri = "s3://${local.buckets["processed"]}"
}

module "glue" {
  source                    = "../glue"
  name_prefix               = local.name_prefix
  jobs                      = module.pipelines.glue_jobs
  crawlers                  = module.pipelines.glue_crawlers
  max_concurrent_runs       = var.glue_max_concurrent_runs
  raw_bucket_name           = local.buckets["raw"]
  raw_bucket_arn            = module.storage.bucket_arns["raw"]
  processed_bucket_name     = local.buckets["processed"]
  processed_bucket_arn      = module.storage.bucket_arns["processed"]
  scripts_bucket_name       = local.buckets["scripts"]
  scripts_bucket_arn        = module.storage.bucket_arns["scripts"]
  logs_bucket_name          = local.buckets["logs"]
  logs_bucket_arn           = module.storage.bucket_arns["logs"]
  kms_key_arn               = module.kms.data_key_arn
  manage_catalog_encryption = var.manage_glue_catalog_encryption
}

module "redshift" {
  source                         = "../redshift"
  name_prefix                    = local.name_prefix
  serverless                     = var.redshift_serverless
  node_type                      = var.redshift_node_type
  number_of_nodes                = var.redshift_number_of_nodes
  serverless_base_capacity       = var.redshift_serverless_base_capacity
  vpc_id                         = module.network.vpc_id
  vpc_cidr_block                 = module.network.vpc_cidr_block
  subnet_ids                     = module.network.private_subnet_ids
  kms_key_arn                    = module.kms.warehouse_key_arn
  raw_bucket_arn                 = module.storage.bucket_arns["raw"]
  processed_bucket_arn           = module.storage.bucket_arns["processed"]
  glue_database_name             = module.glue.database_name
  glue_database_arn              = module.glue.database_arn
  glue_processed_database_name   = module.glue.processed_database_name
  glue_processed_database_arn    = module.glue.processed_database_arn
  snapshot_retention_days        = var.redshift_snapshot_retention_days
  manual_snapshot_retention_days = var.redshift_manual_snapshot_retention_days
  allowed_security_group_ids = merge(
    { mwaa = module.mwaa.security_group_id },
    var.enable_quicksight ? { quicksight = module.quicksight[0].security_group_id } : {},
  )
}

locals {
  redshift = {
    cluster_id            = module.redshift.cluster_id
    workgroup_name        = module.redshift.workgroup_name
    data_api_resource_arn = module.redshift.data_api_resource_arn
    database_name         = module.redshift.database_name
    etl_username          = module.redshift.etl_username
    etl_secret_arn        = module.redshift.etl_secret_arn
    endpoint_address      = module.redshift.endpoint_address
    port                  = module.redshift.port
    copy_role_arn         = module.redshift.copy_role_arn
  }
}

module "orchestration" {
  source                  = "../orchestration"
  name_prefix             = local.name_prefix
  state_machines          = module.pipelines.state_machines
  glue_job_arns           = module.glue.job_arns
  glue_crawler_arns       = module.glue.crawler_arns
  redshift                = local.redshift
  raw_uri                 = local.raw_uri
  processed_uri           = local.processed_uri
  glue_database           = module.glue.database_name
  glue_processed_database = module.glue.processed_database_name
  kms_key_arn             = module.kms.data_key_arn
  # The warehouse's admin secret is encrypted with the warehouse key.
  warehouse_kms_key_arn = module.kms.warehouse_key_arn
  schedule_state        = var.stepfunctions_schedule_state
  alert_emails          = var.alert_emails
  slack_team_id         = var.slack_team_id
  slack_channel_id      = var.slack_channel_id
}

# The arrival gate starts a date's run on the active orchestrator once all its raw files are in;
# the schedules stay as the fallback.
module "ingestion" {
  source                = "../ingestion"
  name_prefix           = local.name_prefix
  gate_source_dir       = "${local.repo_root}/lambdas/arrival_gate"
  raw_bucket_name       = local.buckets["raw"]
  raw_bucket_arn        = module.storage.bucket_arns["raw"]
  kms_key_arn           = module.kms.data_key_arn
  orchestrator          = var.arrival_gate_orchestrator
  state_machine_arns    = module.orchestration.state_machine_arns
  execution_input       = module.orchestration.execution_input
  mwaa_environment_name = module.mwaa.environment_name
  log_retention_days    = var.log_retention_days
}

module "mwaa" {
  source                  = "../mwaa"
  name_prefix             = local.name_prefix
  environment_class       = var.mwaa_environment_class
  min_workers             = var.mwaa_min_workers
  max_workers             = var.mwaa_max_workers
  webserver_access_mode   = var.mwaa_webserver_access_mode
  vpc_id                  = module.network.vpc_id
  vpc_cidr_block          = module.network.vpc_cidr_block
  subnet_ids              = module.network.private_subnet_ids
  kms_key_arn             = module.kms.data_key_arn
  warehouse_kms_key_arn   = module.kms.warehouse_key_arn
  access_logs_bucket_name = module.storage.access_logs_bucket_name
  force_destroy           = var.force_destroy
  plugins_dir             = "${local.repo_root}/plugins"
  requirements_file       = "${local.repo_root}/requirements.txt"
  startup_script_file     = "${local.repo_root}/infra/mwaa/startup.sh"
  raw_uri                 = local.raw_uri
  processed_uri           = local.processed_uri
  glue_database           = module.glue.database_name
  glue_processed_database = module.glue.processed_database_name
  alert_topic_arn         = module.orchestration.alert_topic_arn
  redshift                = local.redshift
  glue_job_arns           = values(module.glue.job_arns)
  glue_crawler_arns       = values(module.glue.crawler_arns)
  slack_webhook_url       = var.slack_webhook_url
}

module "monitoring" {
  source                = "../monitoring"
  name_prefix           = local.name_prefix
  alert_topic_arn       = module.orchestration.alert_topic_arn
  glue_job_names        = values(module.glue.job_names)
  glue_crawler_names    = values(module.glue.crawler_names)
  state_machine_arns    = module.orchestration.state_machine_arns
  mwaa_environment_name = module.mwaa.environment_name
  # The dashboard generated from the pipeline files by `dwh compile`.
  dashboard_template_file = "${local.repo_root}/infra/monitoring/platform.dashboard.json"
  raw_bucket_name         = local.buckets["raw"]
  redshift_cluster_id     = module.redshift.cluster_id
  redshift_workgroup_name = module.redshift.workgroup_name
  backup_vault_name       = module.security.backup_vault_name
}

module "security" {
  source              = "../security"
  name_prefix         = local.name_prefix
  kms_key_arn         = module.kms.data_key_arn
  backup_kms_key_arn  = module.kms.backup_key_arn
  logs_bucket_name    = local.buckets["logs"]
  logs_bucket_arn     = module.storage.bucket_arns["logs"]
  audited_bucket_arns = [module.storage.bucket_arns["raw"], module.storage.bucket_arns["processed"]]
  enable_cloudtrail   = var.enable_cloudtrail
  enable_config       = var.enable_config
  enable_guardduty    = var.enable_guardduty
  enable_securityhub  = var.enable_securityhub
  enable_backup       = var.enable_backup
  backup_resource_arns = compact([
    module.storage.bucket_arns["raw"],
    module.storage.bucket_arns["processed"],
    module.redshift.cluster_arn,
  ])
  backup_retention_days                 = var.backup_retention_days
  backup_vault_min_retention_days       = var.backup_vault_min_retention_days
  backup_vault_max_retention_days       = var.backup_vault_max_retention_days
  backup_vault_lock_changeable_for_days = var.backup_vault_lock_changeable_for_days
  log_retention_days                    = var.log_retention_days
}

module "quicksight" {
  source                     = "../quicksight"
  count                      = var.enable_quicksight ? 1 : 0
  name_prefix                = local.name_prefix
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  redshift_security_group_id = module.redshift.security_group_id
  redshift_host              = module.redshift.endpoint_address
  redshift_port              = module.redshift.port
  redshift_database          = module.redshift.database_name
  redshift_secret_arn        = module.redshift.bi_secret_arn
  kms_key_arn                = module.kms.warehouse_key_arn
  owner_principal_arns       = var.quicksight_owner_principal_arns
  viewer_principal_arns      = var.quicksight_viewer_principal_arns
}
