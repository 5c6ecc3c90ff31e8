# Amazon MWAA on Apache Airflow 3.3.1: its source bucket and bootstrap objects, security group,
# execution role and environment. After creation the deploy command (dwh deploy) owns the bucket
# contents and the object versions the environment runs (see lifecycle blocks): Terraform only
# bootstraps them, with the same content hashes the deploy command records.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  name = "${var.name_prefix}-airflow"
  # MWAA only accepts source buckets whose name starts with "airflow-".
  bucket_name     = "airflow-${var.name_prefix}-${local.account_id}-${local.region}"
  environment_arn = "arn:${local.partition}:airflow:${local.region}:${local.account_id}:environment/${local.name}"

  # Object keys shared with tools/dwh_tools/deploy.py (DAGS_PREFIX, PLUGINS_KEY, ...).
  dags_prefix      = "dags"
  plugins_key      = "plugins.zip"
  requirements_key = "requirements.txt"
  startup_key      = "startup.sh"
}

module "artifacts" {
  source              = "../mwaa_artifacts"
  plugins_dir         = var.plugins_dir
  requirements_file   = var.requirements_file
  startup_script_file = var.startup_script_file
}

# --- source bucket ---

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:code and requirements are rebuilt from the repository by CI; not replicated
  #checkov:skip=CKV2_AWS_61:lifecycle configuration is aws_s3_bucket_lifecycle_configuration.this
  bucket        = local.bucket_name
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled" # MWAA refers to plugins, requirements and startup script by version
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_logging" "this" {
  bucket        = aws_s3_bucket.this.id
  target_bucket = var.access_logs_bucket_name
  target_prefix = "mwaa/"
}

resource "aws_s3_bucket_notification" "this" {
  bucket      = aws_s3_bucket.this.id
  eventbridge = true
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    id     = "noncurrent-versions"
    status = "Enabled"
    filter {}
    # Old versions stay long enough to roll an environment back to them.
    noncurrent_version_expiration {
      noncurrent_days = 90
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket     = aws_s3_bucket.this.id
  policy     = data.aws_iam_policy_document.bucket.json
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# --- bootstrap objects (the deploy command replaces them afterwards) ---

data "archive_file" "plugins" {
  type        = "zip"
  output_path = "${path.root}/.terraform/dwh-build/plugins.zip"

  dynamic "source" {
    for_each = module.artifacts.plugin_files
    content {
      content  = file("${var.plugins_dir}/${source.value}")
      filename = source.value
    }
  }
}

resource "aws_s3_object" "plugins" {
  bucket     = aws_s3_bucket.this.id
  key        = local.plugins_key
  source     = data.archive_file.plugins.output_path
  kms_key_id = var.kms_key_arn
  metadata   = { "content-sha256" = module.artifacts.plugins_content_sha256 }

  lifecycle {
    ignore_changes = [source, source_hash, etag, metadata]
  }
  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_object" "requirements" {
  bucket     = aws_s3_bucket.this.id
  key        = local.requirements_key
  source     = var.requirements_file
  kms_key_id = var.kms_key_arn
  metadata   = { "content-sha256" = module.artifacts.requirements_sha256 }

  lifecycle {
    ignore_changes = [source, source_hash, etag, metadata]
  }
  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_object" "startup" {
  bucket     = aws_s3_bucket.this.id
  key        = local.startup_key
  source     = var.startup_script_file
  kms_key_id = var.kms_key_arn
  metadata   = { "content-sha256" = module.artifacts.startup_script_sha256 }

  lifecycle {
    ignore_changes = [source, source_hash, etag, metadata]
  }
  depends_on = [aws_s3_bucket_versioning.this]
}

# --- network ---

resource "aws_security_group" "mwaa" {
  name        = local.name
  description = "MWAA environment ${local.name}"
  vpc_id      = var.vpc_id
}

# MWAA's own components talk to each other through this group.
resource "aws_vpc_security_group_ingress_rule" "self" {
  security_group_id            = aws_security_group.mwaa.id
  description                  = "MWAA components"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.mwaa.id
}

resource "aws_vpc_security_group_egress_rule" "self" {
  security_group_id            = aws_security_group.mwaa.id
  description                  = "MWAA components"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.mwaa.id
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.mwaa.id
  description       = "AWS APIs and PyPI (requirements.txt) over HTTPS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "metadata_db" {
  security_group_id = aws_security_group.mwaa.id
  description       = "Airflow metadata database (MWAA endpoint in the VPC)"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = var.vpc_cidr_block
}

resource "aws_vpc_security_group_egress_rule" "redshift" {
  security_group_id = aws_security_group.mwaa.id
  description       = "Quality checks over SQL to Redshift"
  ip_protocol       = "tcp"
  from_port         = var.redshift.port
  to_port           = var.redshift.port
  cidr_ipv4         = var.vpc_cidr_block
}

# --- environment ---

resource "aws_mwaa_environment" "this" {
  name               = local.name
  airflow_version    = var.airflow_version
  environment_class  = var.environment_class
  min_workers        = var.min_workers
  max_workers        = var.max_workers
  schedulers         = var.schedulers
  execution_role_arn = aws_iam_role.execution.arn
  kms_key            = var.kms_key_arn
  source_bucket_arn  = aws_s3_bucket.this.arn

  dag_s3_path                      = local.dags_prefix
  plugins_s3_path                  = aws_s3_object.plugins.key
  plugins_s3_object_version        = aws_s3_object.plugins.version_id
  requirements_s3_path             = aws_s3_object.requirements.key
  requirements_s3_object_version   = aws_s3_object.requirements.version_id
  startup_script_s3_path           = aws_s3_object.startup.key
  startup_script_s3_object_version = aws_s3_object.startup.version_id

  webserver_access_mode           = var.webserver_access_mode
  weekly_maintenance_window_start = var.weekly_maintenance_window_start

  airflow_configuration_options = {
    # Connections and Variables come from Secrets Manager; lookup patterns keep every other
    # lookup off the API.
    "secrets.backend" = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
    "secrets.backend_kwargs" = jsonencode({
      connections_prefix         = var.connections_prefix
      variables_prefix           = var.variables_prefix
      connections_lookup_pattern = "^(${join("|", concat(keys(local.connections), ["slack_alerts"]))})$"
      variables_lookup_pattern   = "^dwh_"
    })
    # The dwh package picks its runtime from [dwh] target (AIRFLOW__DWH__TARGET).
    "dwh.target" = "aws"
  }

  network_configuration {
    security_group_ids = [aws_security_group.mwaa.id]
    subnet_ids         = var.subnet_ids
  }

  logging_configuration {
    dag_processing_logs {
      enabled   = true
      log_level = var.log_level
    }
    scheduler_logs {
      enabled   = true
      log_level = var.log_level
    }
    task_logs {
      enabled   = true
      log_level = var.log_level
    }
    webserver_logs {
      enabled   = true
      log_level = var.log_level
    }
    worker_logs {
      enabled   = true
      log_level = var.log_level
    }
  }

  lifecycle {
    # The deploy command moves the environment to new object versions (UpdateEnvironment).
    ignore_changes = [plugins_s3_object_version, requirements_s3_object_version, startup_script_s3_object_version]
  }

  depends_on = [aws_iam_role_policy.execution]
}
