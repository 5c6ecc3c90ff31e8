# Three customer-managed keys per environment, so that one key's grants never open another's
# data:
# - data: the lake buckets, Glue, SNS, Secrets Manager, CloudWatch Logs, CloudTrail and MWAA;
# - warehouse: the Redshift cluster or namespace, hence its snapshots, and its admin secret;
# - backup: the AWS Backup vault's recovery points.
# IAM policies elsewhere grant each key's use to named roles; every key policy lets the account's
# IAM decide, and the data key's also admits the AWS services that encrypt on the account's
# behalf with it. Redshift, Secrets Manager and AWS Backup use the other two keys through grants
# made with the caller's IAM permissions, so those keys need no service statement.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
}

resource "aws_kms_key" "data" {
  description             = "${var.name_prefix} data at rest"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "data" {
  name          = "alias/${var.name_prefix}-data"
  target_key_id = aws_kms_key.data.key_id
}

resource "aws_kms_key" "warehouse" {
  description             = "${var.name_prefix} warehouse and its snapshots at rest"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.account_key.json
}

resource "aws_kms_alias" "warehouse" {
  name          = "alias/${var.name_prefix}-warehouse"
  target_key_id = aws_kms_key.warehouse.key_id
}

resource "aws_kms_key" "backup" {
  description             = "${var.name_prefix} backups at rest"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.account_key.json
}

resource "aws_kms_alias" "backup" {
  name          = "alias/${var.name_prefix}-backup"
  target_key_id = aws_kms_key.backup.key_id
}

# The policy of the warehouse and backup keys: the account's IAM decides who uses them.
data "aws_iam_policy_document" "account_key" {
  #checkov:skip=CKV_AWS_109:a key policy's "*" resource is the key itself; administration stays with the account's IAM
  #checkov:skip=CKV_AWS_111:a key policy's "*" resource is the key itself; use is granted by IAM policies naming the key
  #checkov:skip=CKV_AWS_356:a key policy's "*" resource is the key itself, not every resource
  statement {
    sid = "AccountAdministersKey"
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:CreateGrant",
      "kms:Decrypt",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListAliases",
      "kms:ListGrants",
      "kms:ListKeyPolicies",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:RetireGrant",
      "kms:RevokeGrant",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    # no resource-level permissions: in a key policy "*" means this key and nothing else.
    resources = ["*"]
  }
}

# The data key's policy: the account's IAM, and the services that encrypt with it for the account.
data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:a key policy's "*" resource is the key itself; administration stays with the account's IAM
  #checkov:skip=CKV_AWS_111:a key policy's "*" resource is the key itself; service statements carry source conditions
  #checkov:skip=CKV_AWS_356:a key policy's "*" resource is the key itself, not every resource
  source_policy_documents = [data.aws_iam_policy_document.account_key.json]

  statement {
    sid = "CloudWatchLogsEncryptsAccountLogGroups"
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    actions = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
    # no resource-level permissions: in a key policy "*" means this key and nothing else.
    resources = ["*"]
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  statement {
    sid = "AlarmsEventsAndSchedulesUseEncryptedTopic"
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com", "scheduler.amazonaws.com"]
    }
    actions = ["kms:Decrypt", "kms:GenerateDataKey"]
    # no resource-level permissions: in a key policy "*" means this key and nothing else.
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid = "CloudTrailEncryptsTrail"
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    actions = ["kms:GenerateDataKey", "kms:DescribeKey"]
    # no resource-level permissions: in a key policy "*" means this key and nothing else.
    resources = ["*"]
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:cloudtrail:arn"
      values   = ["arn:${local.partition}:cloudtrail:*:${local.account_id}:trail/${var.name_prefix}-*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}
