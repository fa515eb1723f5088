# -*- coding: utf-8 -*-
# Copyright (c) alicloud.ecs_images contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Common options: alicloud.ecs_images.alicloud
    # Must match plugins/module_utils/base.py COMMON_ARGUMENT_SPEC exactly.
    DOCUMENTATION = r'''
options:
  access_key:
    description:
      - Alibaba Cloud AccessKey ID.
      - "Credentials come from the first source that is set: the options O(access_key) and O(secret_key), O(profile),
        O(ecs_role_name), O(oidc_provider_arn) with O(oidc_token_file); then the environment: E(ALIBABA_CLOUD_ACCESS_KEY_ID),
        the OIDC/RRSA variables E(ALIBABA_CLOUD_OIDC_PROVIDER_ARN), E(ALIBABA_CLOUD_OIDC_TOKEN_FILE) and
        E(ALIBABA_CLOUD_ROLE_ARN), E(ALICLOUD_ACCESS_KEY), E(ALIBABA_CLOUD_PROFILE), E(ALIBABA_CLOUD_ECS_METADATA);
        last the current profile of the aliyun CLI configuration C(~/.aliyun/config.json)."
      - An empty value (as AWX passes for an unset credential input) counts as not set.
      - Prefer environment variables, a profile or an AWX credential to putting keys in plays; see the secure usage
        section of C(docs/credentials.md).
    type: str
    aliases: [alicloud_access_key]
  secret_key:
    description:
      - Alibaba Cloud AccessKey secret, required together with O(access_key).
      - Environment fallback E(ALIBABA_CLOUD_ACCESS_KEY_SECRET), then E(ALICLOUD_SECRET_KEY).
    type: str
    aliases: [alicloud_secret_key]
  security_token:
    description:
      - STS security token for temporary credentials.
      - Environment fallback E(ALIBABA_CLOUD_SECURITY_TOKEN), then E(ALICLOUD_SECURITY_TOKEN) (used together with
        keys from the same source).
    type: str
    aliases: [alicloud_security_token]
  region:
    description:
      - The region ID, for example V(cn-hangzhou).
      - Environment fallback E(ALIBABA_CLOUD_REGION_ID), then E(ALICLOUD_REGION), then the C(region_id) of the
        aliyun CLI profile. A region given explicitly is never overridden by a profile.
      - Custom images are regional.
    type: str
    aliases: [alicloud_region]
  profile:
    description:
      - Name of a profile in the aliyun CLI configuration file C(~/.aliyun/config.json) (or the file named by
        E(ALIBABA_CLOUD_CONFIG_FILE)).
      - Supported profile modes are C(AK), C(StsToken), C(RamRoleArn), C(ChainableRamRoleArn), C(EcsRamRole), C(OIDC),
        and the library-handled C(CloudSSO), C(OAuth) and C(External). Role modes call STS at O(sts_endpoint).
      - Environment fallback E(ALIBABA_CLOUD_PROFILE), then E(ALICLOUD_PROFILE).
        Without any credentials the C(current) profile of that file is used.
    type: str
    aliases: [alicloud_profile]
  assume_role_arn:
    description:
      - ARN of a RAM role to assume with STS C(AssumeRole) before calling ECS, for example
        V(acs:ram::123456789012****:role/image-admin). The other credentials are used to assume it.
      - With O(oidc_provider_arn) (or E(ALIBABA_CLOUD_OIDC_PROVIDER_ARN)) this is the role assumed with the OIDC token
        (C(AssumeRoleWithOIDC)) instead.
      - Environment fallback E(ALIBABA_CLOUD_ROLE_ARN), then E(ALICLOUD_ASSUME_ROLE_ARN).
    type: str
    aliases: [alicloud_assume_role_arn]
  assume_role_session_name:
    description:
      - Session name used with O(assume_role_arn).
      - Environment fallback E(ALIBABA_CLOUD_ROLE_SESSION_NAME), then E(ALICLOUD_ASSUME_ROLE_SESSION_NAME).
      - Defaults to V(ansible-alicloud-ecs-images).
    type: str
    aliases: [alicloud_assume_role_session_name]
  ecs_role_name:
    description:
      - Name of the RAM role attached to the ECS instance Ansible runs on. Temporary credentials are read from the
        instance metadata service (IMDSv2 token first; set E(ALIBABA_CLOUD_IMDSV1_DISABLED=true) to forbid the
        IMDSv1 fallback) with 1 second timeouts, so this only works on an ECS instance.
      - Environment fallback E(ALIBABA_CLOUD_ECS_METADATA), then E(ALICLOUD_ECS_ROLE_NAME).
    type: str
    aliases: [alicloud_ecs_role_name]
  oidc_provider_arn:
    description:
      - ARN of the RAM OIDC identity provider, for example V(acs:ram::123456789012****:oidc-provider/ack-rrsa-c1).
        Together with O(oidc_token_file) and the role O(assume_role_arn), temporary keys are obtained with STS
        C(AssumeRoleWithOIDC) (RRSA on ACK, AWX running on ACK).
      - Environment fallback E(ALIBABA_CLOUD_OIDC_PROVIDER_ARN) (set in ACK pods with RRSA).
    type: str
    aliases: [alicloud_oidc_provider_arn]
  oidc_token_file:
    description:
      - Path of the file holding the OIDC token (read at each refresh), required with O(oidc_provider_arn).
      - Environment fallback E(ALIBABA_CLOUD_OIDC_TOKEN_FILE).
    type: path
    aliases: [alicloud_oidc_token_file]
  endpoint:
    description:
      - ECS API endpoint to use instead of the public one, for example a VPC endpoint
        V(ecs-vpc.cn-hangzhou.aliyuncs.com) or a local emulator V(http://127.0.0.1:8080).
      - "Form: C(host[:port]) or C(http(s)://host[:port]); anything else is refused before any call. Without a scheme
        HTTPS is used."
      - Environment fallback E(ALIBABA_CLOUD_ECS_ENDPOINT), then E(ALICLOUD_ECS_ENDPOINT).
    type: str
    aliases: [ecs_endpoint]
  sts_endpoint:
    description:
      - STS endpoint used by O(assume_role_arn), OIDC and the role modes of profiles, in the same form as O(endpoint).
      - Defaults to C(sts.<region>.aliyuncs.com) (or the C(sts_region) of a profile).
      - Environment fallback E(ALIBABA_CLOUD_STS_ENDPOINT), then E(ALICLOUD_STS_ENDPOINT).
    type: str
  validate_certs:
    description:
      - Verify TLS certificates of HTTPS endpoints. Set to V(false) only for private endpoints with self-signed
        certificates. The environment variable E(ALIBABA_CLOUD_CA_BUNDLE) may name a CA bundle.
    type: bool
    default: true
requirements:
  - python >= 3.9
  - aliyun-python-sdk-core >= 2.16.1
  - aliyun-python-sdk-ecs >= 4.24.83
  - alibabacloud-credentials >= 1.0.2 (for RAM role, OIDC, ECS instance role and role profile credentials)
notes:
  - Every API call is retried with jittered exponential backoff (0.5 s doubling to 10 s, at most 8 attempts and
    120 s) on throttling, 5xx errors, timeouts and dropped connections. Create-like calls carry a C(ClientToken)
    that is reused on every retry, so a lost response never creates a second resource.
  - Failures report the API action, error code, message, request ID and the request parameters with secrets
    masked.
  - Use C(module_defaults) with the action group C(group/alicloud.ecs_images.ecs) to set credentials once.
'''

    # Wait options: alicloud.ecs_images.alicloud.wait. Must match plugins/module_utils/base.py WAIT_ARGUMENT_SPEC
    # (DEFAULT_WAIT_TIMEOUT, MAX_WAIT_TIMEOUT): every module takes them from there.
    WAIT = r'''
options:
  wait:
    description:
      - Wait until the operation has finished (for example until the image is V(Available)).
      - Waiting follows the real state and fails at once when the resource reaches a failed state, with the
        cloud's reason. A new resource the cloud does not list yet is waited for until O(wait_timeout).
      - Polls are timed from the progress the cloud reports, so that the end is noticed within about a second,
        while each waited resource is read at most about six times a minute on average.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds the task may spend waiting in all (every wait of the task together), from 0 to 86400
        (24 hours); checked before anything is changed.
      - When it passes the module fails, saying what was already changed; the operation goes on in the cloud
        and a rerun finds it and waits again (nothing is started twice).
    type: int
    default: 3600
'''

    # Login options of a new or replaced system disk: alicloud.ecs_images.alicloud.login (ecs_instance,
    # ecs_disk_replace). Must match plugins/module_utils/login.py LOGIN_ARGUMENT_SPEC; each module says in its
    # notes whether one of them is required.
    LOGIN = r'''
options:
  password:
    description:
      - Password of the instance's administrator account (root/Administrator).
      - 8 to 30 characters with at least three of lower-case letters, upper-case letters, digits and the
        special characters C(()`~!@#$%^&*-_+=|{}[]:;'<>,.?/).
      - Mutually exclusive with O(key_pair_name) and O(password_inherit).
      - Never logged nor returned.
    type: str
  key_pair_name:
    description:
      - Name of the SSH key pair to bind to the instance (Linux images only); it must exist in the region of the
        task.
      - Mutually exclusive with O(password) and O(password_inherit).
    type: str
  password_inherit:
    description:
      - Keep the password that is already set in the image (V(true)).
      - Mutually exclusive with O(password) and O(key_pair_name).
    type: bool
'''
