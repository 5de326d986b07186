"""The fixed catalog of the practice EC2 service: a few public images and instance types, as DescribeImages and
DescribeInstanceTypes report them in us-east-1. Instances are records, so nothing here boots; the values are what
a student sees in the console and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

REGION = "us-east-1"
AVAILABILITY_ZONE = "us-east-1a"
AVAILABILITY_ZONE_ID = "use1-az1"  # AWS maps zone names to IDs per account; one fixed zone here
DEFAULT_INSTANCE_TYPE = "m1.small"  # RunInstances' default when InstanceType is left out, as in AWS


@dataclass(frozen=True)
class Image:
    image_id: str
    name: str
    description: str
    owner_id: str
    owner_alias: str
    platform_details: str
    architecture: str = "x86_64"
    creation_date: str = "2026-11-02T08:13:27.000Z"

    @property
    def arn(self) -> str:
        return f"arn:aws:ec2:{REGION}::image/{self.image_id}"


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpus: int
    memory_mib: int
    free_tier: bool = False
    current_generation: bool = True
    burstable: bool = False


IMAGES: dict[str, Image] = {
    image.image_id: image
    for image in (
        Image(
            "ami-0a3c3a20c09d6f377",
            "al2023-ami-2023.6.20261102.0-kernel-6.1-x86_64",
            "Amazon Linux 2023 AMI 2023.6.20261102.0 x86_64 HVM kernel-6.1",
            "137112412989",
            "amazon",
            "Linux/UNIX",
        ),
        Image(
            "ami-0e2c8caa4b6378d8c",
            "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20261101",
            "Canonical, Ubuntu, 24.04, amd64 noble image",
            "099720109477",
            "",
            "Linux/UNIX",
        ),
        Image(
            "ami-05b10e08d247fb927",
            "Windows_Server-2022-English-Full-Base-2026.11.13",
            "Microsoft Windows Server 2022 Full Locale English AMI provided by Amazon",
            "801119661308",
            "amazon",
            "Windows",
        ),
    )
}

INSTANCE_TYPES: dict[str, InstanceType] = {
    t.name: t
    for t in (
        InstanceType("t2.micro", 1, 1024, free_tier=True, burstable=True),
        InstanceType("t3.micro", 2, 1024, free_tier=True, burstable=True),
        InstanceType("t3.small", 2, 2048, burstable=True),
        InstanceType("t3.medium", 2, 4096, burstable=True),
        InstanceType("m5.large", 2, 8192),
        InstanceType("c5.large", 2, 4096),
        InstanceType("m1.small", 1, 1740, current_generation=False),
    )
}


def image_shape(image: Image) -> dict[str, object]:
    """DescribeImages' Image."""
    shape: dict[str, object] = {
        "ImageId": image.image_id,
        "ImageLocation": f"{image.owner_alias or image.owner_id}/{image.name}",
        "State": "available",
        "OwnerId": image.owner_id,
        "CreationDate": image.creation_date,
        "Public": True,
        "Architecture": image.architecture,
        "ImageType": "machine",
        "Name": image.name,
        "Description": image.description,
        "RootDeviceType": "ebs",
        "RootDeviceName": "/dev/xvda",
        "VirtualizationType": "hvm",
        "Hypervisor": "xen",
        "EnaSupport": True,
        "PlatformDetails": image.platform_details,
        "UsageOperation": "RunInstances" if image.platform_details == "Linux/UNIX" else "RunInstances:0002",
    }
    if image.owner_alias:
        shape["ImageOwnerAlias"] = image.owner_alias
    if image.platform_details == "Windows":
        shape["Platform"] = "windows"
    return shape


def instance_type_shape(t: InstanceType) -> dict[str, object]:
    """DescribeInstanceTypes' InstanceTypeInfo."""
    return {
        "InstanceType": t.name,
        "CurrentGeneration": t.current_generation,
        "FreeTierEligible": t.free_tier,
        "SupportedUsageClasses": ["on-demand", "spot"],
        "SupportedRootDeviceTypes": ["ebs"],
        "SupportedVirtualizationTypes": ["hvm"],
        "BareMetal": False,
        "Hypervisor": "nitro" if t.name[:2] in ("t3", "m5", "c5") else "xen",
        "ProcessorInfo": {"SupportedArchitectures": ["x86_64"]},
        "VCpuInfo": {"DefaultVCpus": t.vcpus},
        "MemoryInfo": {"SizeInMiB": t.memory_mib},
        "InstanceStorageSupported": False,
        "BurstablePerformanceSupported": t.burstable,
        "AutoRecoverySupported": True,
        "HibernationSupported": False,
        "DedicatedHostsSupported": not t.burstable,
    }


def region_shape() -> dict[str, str]:
    """DescribeRegions' entry for the one region this practice service runs in."""
    return {"Endpoint": f"ec2.{REGION}.amazonaws.com", "RegionName": REGION, "OptInStatus": "opt-in-not-required"}


def availability_zone_shape() -> dict[str, object]:
    """DescribeAvailabilityZones' entry for the one zone instances are placed in."""
    return {
        "OptInStatus": "opt-in-not-required",
        "Messages": [],
        "RegionName": REGION,
        "ZoneName": AVAILABILITY_ZONE,
        "ZoneId": AVAILABILITY_ZONE_ID,
        "GroupName": REGION,
        "NetworkBorderGroup": REGION,
        "ZoneType": "availability-zone",
        "State": "available",
    }
