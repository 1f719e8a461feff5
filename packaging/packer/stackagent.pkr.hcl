# Bakes AMIs with the stackagent package installed and its unit enabled:
# one from Amazon Linux 2023 (the .rpm) and one from Ubuntu 24.04 LTS (the
# .deb), for x86_64 or arm64 (Graviton). Build the packages first:
#
#   make package PKG_VERSION=1.2.3
#   cd packaging/packer && packer init . && packer build -var package_version=1.2.3 -var arch=arm64 .
#
# The agent is enabled, not started, on the builder: the instances launched
# from the image run it first, with their own identity and the agent.yaml
# their user data writes (packaging/cloud-init/user-data.yaml). See
# docs/packaging.md.

packer {
  required_version = ">= 1.10.0"
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
  }
}

variable "package_version" {
  type        = string
  description = "The stackagent package version in package_dir (PKG_VERSION of make package)."
}

variable "package_dir" {
  type        = string
  default     = "../../bin/packages"
  description = "Where make package put the .deb and .rpm (relative to this folder)."
}

variable "arch" {
  type        = string
  default     = "arm64"
  description = "EC2 architecture: x86_64 or arm64 (Graviton)."
  validation {
    condition     = contains(["x86_64", "arm64"], var.arch)
    error_message = "The arch must be x86_64 or arm64."
  }
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "instance_type" {
  type        = string
  default     = ""
  description = "Builder instance type; empty: t4g.small for arm64, t3.small for x86_64."
}

variable "subnet_id" {
  type        = string
  default     = ""
  description = "Subnet for the builder instance; empty: the default VPC."
}

variable "ami_regions" {
  type        = list(string)
  default     = []
  description = "Other regions to copy the AMIs to."
}

locals {
  deb_arch      = var.arch == "arm64" ? "arm64" : "amd64"
  rpm_arch      = var.arch == "arm64" ? "aarch64" : "x86_64"
  instance_type = var.instance_type != "" ? var.instance_type : (var.arch == "arm64" ? "t4g.small" : "t3.small")
  stamp         = formatdate("YYYYMMDD-hhmmss", timestamp())
  deb           = "${path.root}/${var.package_dir}/stackagent_${var.package_version}-1_${local.deb_arch}.deb"
  rpm           = "${path.root}/${var.package_dir}/stackagent-${var.package_version}-1.${local.rpm_arch}.rpm"
  tags = {
    "stackagent:version" = var.package_version
    "stackagent:arch"    = var.arch
    "built-by"           = "packer"
  }
}

source "amazon-ebs" "al2023" {
  region        = var.region
  instance_type = local.instance_type
  subnet_id     = var.subnet_id != "" ? var.subnet_id : null
  ami_name      = "stackagent-${var.package_version}-al2023-${var.arch}-${local.stamp}"
  ami_regions   = var.ami_regions
  imds_support  = "v2.0"
  ssh_username  = "ec2-user"
  source_ami_filter {
    filters = {
      name                = "al2023-ami-2023.*-kernel-*-${var.arch}"
      architecture        = var.arch
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = ["amazon"]
    most_recent = true
  }
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
  tags = merge(local.tags, { "Name" = "stackagent ${var.package_version} Amazon Linux 2023 ${var.arch}" })
}

source "amazon-ebs" "ubuntu" {
  region        = var.region
  instance_type = local.instance_type
  subnet_id     = var.subnet_id != "" ? var.subnet_id : null
  ami_name      = "stackagent-${var.package_version}-ubuntu-24.04-${var.arch}-${local.stamp}"
  ami_regions   = var.ami_regions
  imds_support  = "v2.0"
  ssh_username  = "ubuntu"
  source_ami_filter {
    filters = {
      name                = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${local.deb_arch}-server-*"
      architecture        = var.arch
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = ["099720109477"] # Canonical
    most_recent = true
  }
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
  tags = merge(local.tags, { "Name" = "stackagent ${var.package_version} Ubuntu 24.04 ${var.arch}" })
}

build {
  name    = "stackagent"
  sources = ["source.amazon-ebs.al2023", "source.amazon-ebs.ubuntu"]

  # cloud-init of the builder itself must be done (on Ubuntu it holds the
  # apt lock while it upgrades packages).
  provisioner "shell" {
    inline = ["sudo cloud-init status --wait || true"]
  }

  provisioner "file" {
    only        = ["amazon-ebs.al2023"]
    source      = local.rpm
    destination = "/tmp/stackagent.rpm"
  }

  provisioner "shell" {
    only   = ["amazon-ebs.al2023"]
    inline = ["sudo dnf install -y /tmp/stackagent.rpm"]
  }

  provisioner "file" {
    only        = ["amazon-ebs.ubuntu"]
    source      = local.deb
    destination = "/tmp/stackagent.deb"
  }

  provisioner "shell" {
    only             = ["amazon-ebs.ubuntu"]
    environment_vars = ["DEBIAN_FRONTEND=noninteractive"]
    inline           = ["sudo -E apt-get install -y /tmp/stackagent.deb"]
  }

  # Check the install, then leave nothing of this builder in the image: the
  # agent's state (journal, boot setup marker, runs) belongs to each
  # instance launched from it.
  provisioner "shell" {
    inline = [
      "set -eux",
      "stackagent version | grep -F 'stackagent ${var.package_version} '",
      "systemctl is-enabled stackagent.service",
      "sudo systemd-analyze verify /usr/lib/systemd/system/stackagent.service",
      "sudo systemctl stop stackagent.service || true",
      "sudo find /var/lib/stackagent -mindepth 1 -delete",
      "sudo rm -f /tmp/stackagent.rpm /tmp/stackagent.deb",
    ]
  }

  post-processor "manifest" {
    output     = "packer-manifest.json"
    strip_path = true
  }
}
