# The data lake buckets: raw (CSV landing), processed (Parquet, quarantine, metrics), scripts (Glue
# scripts and temp), logs (Spark UI, CloudTrail, Config). All are versioned, SSE-KMS encrypted,
# private, owner-enforced, lifecycle-managed, reachable over HTTPS only, and optionally replicated
# to a second region. Raw (the extracts) and logs (CloudTrail and Config: the audit trail) carry
# S3 Object Lock. S3 server access logs go to a separate access-logs bucket because S3 delivers
# them only to a bucket encrypted with SSE-S3 and without Object Lock.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  buckets = toset(["raw", "processed", "scripts", "logs"])
  # Globally unique without naming an account in code: prefix, purpose, account, region.
  bucket_names = { for b in local.buckets : b => "${var.name_prefix}-${b}-${local.account_id}-${local.region}" }

  # Days before objects move to infrequent access and expire, per bucket; null never expires.
  lifecycle_rules = {
    raw       = { ia_days = 30, expire_days = var.raw_retention_days }
    processed = { ia_days = 90, expire_days = null }
    scripts   = { ia_days = null, expire_days = null }
    logs      = { ia_days = 30, expire_days = var.log_retention_days }
  }
  replicated = var.enable_replication ? toset(var.replicated_buckets) : toset([])

  # Default Object Lock retention per locked bucket; shorter than the bucket's expiry above.
  object_lock_days = {
    raw  = var.raw_object_lock_days
    logs = var.logs_object_lock_days
  }
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV2_AWS_61:lifecycle configuration is aws_s3_bucket_lifecycle_configuration.this (for_each)
  #checkov:skip=CKV_AWS_144:cross-region replication is opt-in (enable_replication) for the buckets in replicated_buckets
  for_each      = local.buckets
  bucket        = local.bucket_names[each.key]
  force_destroy = var.force_destroy
  # A new bucket is created with Object Lock. On an existing bucket the provider would replace
  # the bucket to change this; aws_s3_bucket_object_lock_configuration.this enables it in place.
  object_lock_enabled = contains(keys(local.object_lock_days), each.key)

  lifecycle {
    ignore_changes = [object_lock_enabled]
  }
}

# Every new object version is locked for the bucket's retention: GOVERNANCE by default, so
# holders of s3:BypassGovernanceRetention (none of the pipeline roles) can still remove it;
# COMPLIANCE locks it for everyone, root included. Deleting without a version id only adds a
# delete marker, and lifecycle expiry does the same, so the expiry below keeps working; locked
# noncurrent versions are removed by lifecycle once their retention has passed.
resource "aws_s3_bucket_object_lock_configuration" "this" {
  for_each            = local.object_lock_days
  bucket              = aws_s3_bucket.this[each.key].id
  object_lock_enabled = "Enabled"

  rule {
    default_retention {
      mode = var.object_lock_mode
      days = each.value
    }
  }

  lifecycle {
    precondition {
      condition     = each.value < coalesce(local.lifecycle_rules[each.key].expire_days, each.value + 1)
      error_message = "The Object Lock retention of the ${each.key} bucket (${each.value} days) must be shorter than the days after which its objects expire."
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = local.buckets
  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_logging" "this" {
  for_each      = local.buckets
  bucket        = aws_s3_bucket.this[each.key].id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "${each.key}/"
}

# Object-level events go to EventBridge (landing notifications, audit), at no cost when unused.
resource "aws_s3_bucket_notification" "this" {
  for_each    = local.buckets
  bucket      = aws_s3_bucket.this[each.key].id
  eventbridge = true
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  #checkov:skip=CKV_AWS_300:the static noncurrent-versions rule (empty filter) aborts incomplete uploads on every bucket; checkov's rendering of the scripts instance keeps only its dynamic glue-temp rule
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id

  rule {
    id     = "noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  dynamic "rule" {
    for_each = local.lifecycle_rules[each.key].ia_days == null ? [] : [local.lifecycle_rules[each.key]]
    content {
      id     = "infrequent-access"
      status = "Enabled"
      filter {}
      transition {
        days          = rule.value.ia_days
        storage_class = "STANDARD_IA"
      }
    }
  }

  dynamic "rule" {
    for_each = local.lifecycle_rules[each.key].expire_days == null ? [] : [local.lifecycle_rules[each.key]]
    content {
      id     = "expire"
      status = "Enabled"
      filter {}
      expiration {
        days = rule.value.expire_days
      }
    }
  }

  # Temp files Glue leaves behind.
  dynamic "rule" {
    for_each = each.key == "scripts" ? [1] : []
    content {
      id     = "glue-temp"
      status = "Enabled"
      filter {
        prefix = "glue-temp/"
      }
      expiration {
        days = 7
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
  for_each = local.buckets

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    resources = [aws_s3_bucket.this[each.key].arn, "${aws_s3_bucket.this[each.key].arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # CloudTrail and AWS Config deliver into the logs bucket, under their own prefixes, for this
  # account only.
  dynamic "statement" {
    for_each = each.key == "logs" ? [1] : []
    content {
      sid     = "CloudTrailAndConfigCheckAcl"
      actions = ["s3:GetBucketAcl", "s3:ListBucket"]
      principals {
        type        = "Service"
        identifiers = ["cloudtrail.amazonaws.com", "config.amazonaws.com"]
      }
      resources = [aws_s3_bucket.this[each.key].arn]
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
    }
  }

  dynamic "statement" {
    for_each = each.key == "logs" ? [1] : []
    content {
      sid     = "CloudTrailAndConfigDeliver"
      actions = ["s3:PutObject"]
      principals {
        type        = "Service"
        identifiers = ["cloudtrail.amazonaws.com", "config.amazonaws.com"]
      }
      resources = [
        "${aws_s3_bucket.this[each.key].arn}/cloudtrail/AWSLogs/${local.account_id}/*",
        "${aws_s3_bucket.this[each.key].arn}/config/AWSLogs/${local.account_id}/*",
      ]
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
      condition {
        test     = "StringEquals"
        variable = "s3:x-amz-acl"
        values   = ["bucket-owner-full-control"]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each   = local.buckets
  bucket     = aws_s3_bucket.this[each.key].id
  policy     = data.aws_iam_policy_document.bucket[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# --- access logs (S3 server access logging accepts only an SSE-S3 target bucket) ---

resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_18:this is the access-log sink; logging it into itself would loop
  #checkov:skip=CKV_AWS_145:S3 server access logging delivers only to SSE-S3 buckets (AES256 below)
  #checkov:skip=CKV_AWS_144:access logs are regional audit data; not replicated
  #checkov:skip=CKV2_AWS_61:lifecycle configuration is aws_s3_bucket_lifecycle_configuration.access_logs
  bucket        = "${var.name_prefix}-access-logs-${local.account_id}-${local.region}"
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_notification" "access_logs" {
  bucket      = aws_s3_bucket.access_logs.id
  eventbridge = true
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
  depends_on = [aws_s3_bucket_versioning.access_logs]
}

data "aws_iam_policy_document" "access_logs" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    resources = [aws_s3_bucket.access_logs.arn, "${aws_s3_bucket.access_logs.arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid     = "S3ServerAccessLogs"
    actions = ["s3:PutObject"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    resources = ["${aws_s3_bucket.access_logs.arn}/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = concat([for b in aws_s3_bucket.this : b.arn], var.log_source_bucket_arns)
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket     = aws_s3_bucket.access_logs.id
  policy     = data.aws_iam_policy_document.access_logs.json
  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}
