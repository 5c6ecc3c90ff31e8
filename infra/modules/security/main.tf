# Account security and backup, each behind a toggle because several are one-per-account-and-region
# services an organisation may already run centrally: CloudTrail (to the logs bucket and CloudWatch
# Logs), AWS Config, GuardDuty, Security Hub, and AWS Backup of the lake buckets and the warehouse
# into a locked vault encrypted with a key of its own.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  trail_name = "${var.name_prefix}-trail"
}

# --- CloudTrail ---

resource "aws_cloudwatch_log_group" "trail" {
  count             = var.enable_cloudtrail ? 1 : 0
  name              = "/aws/cloudtrail/${local.trail_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

data "aws_iam_policy_document" "trail_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "trail" {
  count              = var.enable_cloudtrail ? 1 : 0
  name               = "${local.trail_name}-logs"
  assume_role_policy = data.aws_iam_policy_document.trail_assume.json
}

data "aws_iam_policy_document" "trail" {
  count = var.enable_cloudtrail ? 1 : 0
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.trail[0].arn}:*"]
  }
}

resource "aws_iam_role_policy" "trail" {
  count  = var.enable_cloudtrail ? 1 : 0
  name   = "deliver-trail"
  role   = aws_iam_role.trail[0].id
  policy = data.aws_iam_policy_document.trail[0].json
}

resource "aws_sns_topic" "trail" {
  count             = var.enable_cloudtrail ? 1 : 0
  name              = "${local.trail_name}-deliveries"
  kms_master_key_id = var.kms_key_arn
}

data "aws_iam_policy_document" "trail_topic" {
  count = var.enable_cloudtrail ? 1 : 0
  statement {
    actions = ["sns:Publish"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    resources = [aws_sns_topic.trail[0].arn]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudtrail:${local.region}:${local.account_id}:trail/${local.trail_name}"]
    }
  }
}

resource "aws_sns_topic_policy" "trail" {
  count  = var.enable_cloudtrail ? 1 : 0
  arn    = aws_sns_topic.trail[0].arn
  policy = data.aws_iam_policy_document.trail_topic[0].json
}

resource "aws_cloudtrail" "this" {
  count                         = var.enable_cloudtrail ? 1 : 0
  name                          = local.trail_name
  s3_bucket_name                = var.logs_bucket_name
  s3_key_prefix                 = "cloudtrail"
  kms_key_id                    = var.kms_key_arn
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  cloud_watch_logs_group_arn    = "${aws_cloudwatch_log_group.trail[0].arn}:*"
  cloud_watch_logs_role_arn     = aws_iam_role.trail[0].arn
  sns_topic_name                = aws_sns_topic.trail[0].arn

  # Object-level reads and writes of the lake are audited too.
  event_selector {
    read_write_type           = "All"
    include_management_events = true
    data_resource {
      type   = "AWS::S3::Object"
      values = [for arn in var.audited_bucket_arns : "${arn}/"]
    }
  }

  depends_on = [aws_iam_role_policy.trail, aws_sns_topic_policy.trail]
}

# --- AWS Config ---

data "aws_iam_policy_document" "config_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["config.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "config" {
  count              = var.enable_config ? 1 : 0
  name               = "${var.name_prefix}-config"
  assume_role_policy = data.aws_iam_policy_document.config_assume.json
}

# AWS's managed policy for the Config recorder: the read-only Describe/List/Get calls across
# every supported resource type, which no hand-written policy can keep up with.
data "aws_iam_policy" "config_role" {
  count = var.enable_config ? 1 : 0
  name  = "AWS_ConfigRole"
}

resource "aws_iam_role_policy_attachment" "config" {
  count      = var.enable_config ? 1 : 0
  role       = aws_iam_role.config[0].name
  policy_arn = data.aws_iam_policy.config_role[0].arn
}

data "aws_iam_policy_document" "config_delivery" {
  statement {
    sid       = "CheckLogsBucket"
    actions   = ["s3:GetBucketAcl", "s3:ListBucket"]
    resources = [var.logs_bucket_arn]
  }
  statement {
    sid       = "DeliverSnapshots"
    actions   = ["s3:PutObject"]
    resources = ["${var.logs_bucket_arn}/config/AWSLogs/${local.account_id}/*"]
  }
  statement {
    sid       = "EncryptSnapshots"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "config" {
  count  = var.enable_config ? 1 : 0
  name   = "deliver-config"
  role   = aws_iam_role.config[0].id
  policy = data.aws_iam_policy_document.config_delivery.json
}

resource "aws_config_configuration_recorder" "this" {
  count    = var.enable_config ? 1 : 0
  name     = var.name_prefix
  role_arn = aws_iam_role.config[0].arn
  recording_group {
    all_supported                 = true
    include_global_resource_types = true
  }
}

resource "aws_config_delivery_channel" "this" {
  count          = var.enable_config ? 1 : 0
  name           = var.name_prefix
  s3_bucket_name = var.logs_bucket_name
  s3_key_prefix  = "config"
  s3_kms_key_arn = var.kms_key_arn
  depends_on     = [aws_config_configuration_recorder.this]
}

resource "aws_config_configuration_recorder_status" "this" {
  count      = var.enable_config ? 1 : 0
  name       = aws_config_configuration_recorder.this[0].name
  is_enabled = true
  depends_on = [aws_config_delivery_channel.this]
}

# --- GuardDuty and Security Hub ---

resource "aws_guardduty_detector" "this" {
  #checkov:skip=CKV2_AWS_3:per-account detector; an organisation enables GuardDuty org-wide from its delegated administrator instead
  count                        = var.enable_guardduty ? 1 : 0
  enable                       = true
  finding_publishing_frequency = "FIFTEEN_MINUTES"
}

resource "aws_guardduty_detector_feature" "s3" {
  count       = var.enable_guardduty ? 1 : 0
  detector_id = aws_guardduty_detector.this[0].id
  name        = "S3_DATA_EVENTS"
  status      = "ENABLED"
}

resource "aws_securityhub_account" "this" {
  count                     = var.enable_securityhub ? 1 : 0
  enable_default_standards  = true
  auto_enable_controls      = true
  control_finding_generator = "SECURITY_CONTROL"
}

# --- AWS Backup ---

resource "aws_backup_vault" "this" {
  count       = var.enable_backup ? 1 : 0
  name        = var.name_prefix
  kms_key_arn = var.backup_kms_key_arn
}

# Vault Lock: no recovery point is deleted before min_retention_days, nor kept past
# max_retention_days, by anyone. Without changeable_for_days the lock stays in governance mode (a
# permitted IAM user can remove it); with it, the lock becomes immutable (compliance mode) that
# many days after it is applied.
resource "aws_backup_vault_lock_configuration" "this" {
  count               = var.enable_backup ? 1 : 0
  backup_vault_name   = aws_backup_vault.this[0].name
  min_retention_days  = var.backup_vault_min_retention_days
  max_retention_days  = var.backup_vault_max_retention_days
  changeable_for_days = var.backup_vault_lock_changeable_for_days

  lifecycle {
    precondition {
      condition     = var.backup_vault_min_retention_days <= var.backup_retention_days && var.backup_retention_days <= var.backup_vault_max_retention_days
      error_message = "backup_retention_days (${var.backup_retention_days}) must lie within the vault lock's ${var.backup_vault_min_retention_days} to ${var.backup_vault_max_retention_days} days, or every backup job fails."
    }
  }
}

resource "aws_backup_plan" "this" {
  count = var.enable_backup ? 1 : 0
  name  = var.name_prefix

  rule {
    rule_name         = "daily"
    target_vault_name = aws_backup_vault.this[0].name
    schedule          = var.backup_schedule
    start_window      = 60
    completion_window = 480
    lifecycle {
      delete_after = var.backup_retention_days
    }
  }
}

data "aws_iam_policy_document" "backup_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "backup" {
  count              = var.enable_backup ? 1 : 0
  name               = "${var.name_prefix}-backup"
  assume_role_policy = data.aws_iam_policy_document.backup_assume.json
}

# AWS Backup's managed service-role policies: they track every action each supported service's
# backup and restore needs (S3 and Redshift here).
data "aws_iam_policy" "backup" {
  for_each = var.enable_backup ? toset([
    "AWSBackupServiceRolePolicyForBackup",
    "AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
  ]) : toset([])
  name = each.key
}

resource "aws_iam_role_policy_attachment" "backup" {
  for_each   = data.aws_iam_policy.backup
  role       = aws_iam_role.backup[0].name
  policy_arn = each.value.arn
}

resource "aws_backup_selection" "this" {
  count        = var.enable_backup ? 1 : 0
  name         = var.name_prefix
  plan_id      = aws_backup_plan.this[0].id
  iam_role_arn = aws_iam_role.backup[0].arn
  resources    = var.backup_resource_arns
}
