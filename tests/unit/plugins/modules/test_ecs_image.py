# -*- coding: utf-8 -*-
"""ecs_image decision logic with a fake client: ambiguity, check-mode predictions, ownership refusals, create
parameters. (The emulator cannot hold two images with one name, so ambiguity is tested here.)"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.ecs_images.plugins.modules import ecs_image as M
from ansible_collections.alicloud.ecs_images.plugins.module_utils.client import ApiError
from ansible_collections.alicloud.ecs_images.plugins.module_utils.images import normalize_image
from ansible_collections.alicloud.ecs_images.plugins.module_utils import waiters as W


class Failed(Exception):
    pass


class Exited(Exception):
    pass


def raw_image(image_id, name, status='Available', owner='self', tags=None, snapshots=('s-1',), **extra):
    image = {'ImageId': image_id, 'ImageName': name, 'Status': status, 'ImageOwnerAlias': owner,
             'Progress': '100%', 'Description': extra.pop('Description', ''),
             'Tags': {'Tag': [{'TagKey': k, 'TagValue': v} for k, v in (tags or {}).items()]},
             'DiskDeviceMappings': {'DiskDeviceMapping': [
                 {'Device': '/dev/xvda', 'Type': 'system', 'SnapshotId': s, 'Size': '40'} for s in snapshots]}}
    image.update(extra)
    return image


class FakeClient:
    region = 'cn-hangzhou'

    def __init__(self, images=(), instances=(), snapshots=(), disks=()):
        self.images = list(images)
        self.instances = list(instances)
        self.snapshots = list(snapshots)
        self.disks = list(disks)
        self.calls = []

    def paginate(self, action, params, result_key, page_size=100, region=None):
        self.calls.append((action, dict(params)))
        if action == 'DescribeDisks':
            return [dict(d) for d in self.disks if d['InstanceId'] == params['InstanceId']]
        assert action == 'DescribeImages'
        found = self.images
        if 'ImageName' in params:
            found = [i for i in found if params['ImageName'] in i['ImageName']]   # fuzzy like the API
        if 'SnapshotId' in params:
            found = [i for i in found if any(m['SnapshotId'] == params['SnapshotId'] for m in
                                             i['DiskDeviceMappings']['DiskDeviceMapping'])]
        return [dict(i) for i in found]

    def call(self, action, params=None, client_token=None, region=None):
        self.calls.append((action, dict(params or {})))
        if action == 'DescribeImages':
            return {'Images': {'Image': [dict(i) for i in self.images if i['ImageId'] == params['ImageId']]}}
        if action == 'DescribeInstances':
            return {'Instances': {'Instance': [i for i in self.instances if i['InstanceId'] in params['InstanceIds']]}}
        if action == 'DescribeSnapshots':
            return {'Snapshots': {'Snapshot': [s for s in self.snapshots if s['SnapshotId'] in params['SnapshotIds']]}}
        if action == 'DeleteImage':
            self.images = [i for i in self.images if i['ImageId'] != params['ImageId']]
            return {}
        if action == 'DeleteSnapshot':
            if any(s['SnapshotId'] == params['SnapshotId'] for s in self.snapshots):
                self.snapshots = [s for s in self.snapshots if s['SnapshotId'] != params['SnapshotId']]
                return {}
            raise ApiError(action, 'InvalidSnapshotId.NotFound', 'gone', http_status=404)
        raise AssertionError('unexpected call %s' % action)

    def actions(self):
        return [c[0] for c in self.calls]


class FakeModule:
    def __init__(self, client, check_mode=False, **params):
        base = dict(state='present', image_id=None, name=None, instance_id=None, snapshot_id=None,
                    disk_device_mappings=None, description=None, image_family=None, image_version=None,
                    architecture=None, platform=None, boot_mode=None, tags=None, purge_tags=True,
                    resource_group_id=None, deprecated=None, force=False, delete_snapshots=False, wait=True,
                    wait_timeout=600, check_source=False)
        base.update(params)
        self.params = base
        self.check_mode = check_mode
        self.diff_mode = True
        self.region = 'cn-hangzhou'
        self._client = client
        self.warnings = []
        self.result = None
        self.failure_extras = {}
        self.rerun_hint = None

    def client(self, region=None):
        return self._client

    def fail(self, msg, **kwargs):
        self.result = dict(msg=msg, **kwargs)
        raise Failed(msg)

    def fail_api(self, err, msg=None, **kwargs):
        self.fail('%s: %s' % (msg, err), **kwargs)

    def warn(self, msg):
        self.warnings.append(msg)

    def exit(self, changed, **result):
        self.result = dict(changed=changed, **result)
        raise Exited()


def run(mod):
    with pytest.raises(Exited):
        M.EcsImage(mod).run()
    return mod.result


def test_ambiguous_name_is_an_error_listing_ids():
    client = FakeClient([raw_image('m-1', 'web'), raw_image('m-2', 'web', status='CreateFailed'),
                         raw_image('m-3', 'web-2')])
    mod = FakeModule(client, name='web', description='new one')
    with pytest.raises(Failed) as exc:
        M.EcsImage(mod).run()
    msg = str(exc.value)
    assert 'ambiguous' in msg and 'm-1 (Available)' in msg and 'm-2 (CreateFailed)' in msg and 'm-3' not in msg
    assert 'image_id' in msg
    assert client.actions() == ['DescribeImages']           # nothing changed


def test_fuzzy_api_match_is_filtered_exactly():
    client = FakeClient([raw_image('m-3', 'web-2', Description='keep')])
    mod = FakeModule(client, name='web', description='other')
    with pytest.raises(Failed) as exc:
        M.EcsImage(mod).run()
    assert 'no image named' in str(exc.value)


def test_check_mode_create_predicts_without_calls():
    client = FakeClient(instances=[{'InstanceId': 'i-1', 'Status': 'Running'}])
    mod = FakeModule(client, check_mode=True, name='web', instance_id='i-1', tags={'a': '1'})
    result = run(mod)
    assert result['changed'] is True and result['image']['image_id'] is None
    assert result['image']['tags'] == {'a': '1'} and result['diff']['before'] == {}
    assert 'CreateImage' not in client.actions()


def test_check_mode_update_predicts_tags_and_status():
    client = FakeClient([raw_image('m-1', 'web', tags={'a': '1', 'b': '2'})])
    mod = FakeModule(client, check_mode=True, name='web', tags={'a': '9'}, deprecated=True)
    result = run(mod)
    assert result['changed'] is True
    assert result['image']['tags'] == {'a': '9'} and result['image']['status'] == 'Deprecated'
    assert result['diff']['before']['tags'] == {'a': '1', 'b': '2'}
    assert client.actions() == ['DescribeImages']


def test_unchanged_image_is_not_changed_and_reads_once():
    client = FakeClient([raw_image('m-1', 'web', tags={'a': '1'}, Description='desc')])
    mod = FakeModule(client, name='web', tags={'a': '1'}, description='desc')
    result = run(mod)
    assert result['changed'] is False and result['image']['image_id'] == 'm-1'
    assert client.actions() == ['DescribeImages'] and mod.warnings == []


def source_client():
    """Image m-1 made from instance i-1 (snapshots s-1 of disk d-1, s-2 of d-2); instance i-2 has disk d-9."""
    image = raw_image('m-1', 'web', snapshots=('s-1', 's-2'))
    image['DiskDeviceMappings']['DiskDeviceMapping'][1].update(Type='data', Device='/dev/xvdb')
    return FakeClient([image],
                      snapshots=[{'SnapshotId': 's-1', 'SourceDiskId': 'd-1'}, {'SnapshotId': 's-2', 'SourceDiskId': 'd-2'}],
                      disks=[{'DiskId': 'd-1', 'InstanceId': 'i-1'}, {'DiskId': 'd-2', 'InstanceId': 'i-1'},
                             {'DiskId': 'd-9', 'InstanceId': 'i-2'}])


@pytest.mark.parametrize('source', [dict(instance_id='i-1', check_source=True), dict(snapshot_id='s-1'),
                                    dict(disk_device_mappings=[{'snapshot_id': 's-2'}, {'snapshot_id': 's-1'},
                                                               {'size': 20}])])
def test_same_source_on_existing_image_is_silent_and_only_reads(source):
    client = source_client()
    mod = FakeModule(client, name='web', **source)
    result = run(mod)
    assert result['changed'] is False and mod.warnings == []
    assert all(a.startswith('Describe') for a in client.actions())


@pytest.mark.parametrize('source, message', [
    (dict(instance_id='i-2', check_source=True), "option instance_id is 'i-2' but image m-1 was made from disk(s) d-1, d-2, none of"),
    (dict(snapshot_id='s-2'), "option snapshot_id is 's-2' but image m-1 was made from snapshot s-1 (system disk)"),
    (dict(disk_device_mappings=[{'snapshot_id': 's-1'}]),
     'option disk_device_mappings has snapshots s-1 but image m-1 was made from snapshots s-1, s-2'),
])
def test_other_source_on_existing_image_is_a_warning_naming_the_option(source, message):
    client = source_client()
    mod = FakeModule(client, name='web', check_mode=True, **source)
    result = run(mod)
    assert result['changed'] is False
    assert len(mod.warnings) == 1 and mod.warnings[0].startswith(message), mod.warnings
    assert 'cannot be changed in place' in mod.warnings[0]
    assert all(a.startswith('Describe') for a in client.actions())


def test_unreadable_source_is_silent():
    client = source_client()
    client.snapshots = []           # the image's snapshots are gone: its source disks cannot be read
    mod = FakeModule(client, name='web', instance_id='i-2', check_source=True)
    run(mod)
    client = source_client()        # the instance has no disks here (gone, or another region)
    mod2 = FakeModule(client, name='web', instance_id='i-3', check_source=True)
    run(mod2)
    assert mod.warnings == [] and mod2.warnings == []


@pytest.mark.parametrize('source', [dict(instance_id='i-1'), dict(instance_id='i-2')])
def test_rerun_given_instance_id_reads_the_image_only(source):
    """A rerun of an unchanged create makes one read: the source is read only to create, or with check_source."""
    client = source_client()
    mod = FakeModule(client, name='web', **source)
    result = run(mod)
    assert result['changed'] is False and mod.warnings == []
    assert client.actions() == ['DescribeImages']


def test_check_source_reads_the_snapshots_and_the_instance_disks():
    client = source_client()
    run(FakeModule(client, name='web', instance_id='i-1', check_source=True))
    assert client.actions() == ['DescribeImages', 'DescribeSnapshots', 'DescribeDisks']


def test_changing_someone_elses_image_is_refused():
    client = FakeClient([raw_image('m-pub', 'centos', owner='system')])
    mod = FakeModule(client, image_id='m-pub', description='mine now')
    with pytest.raises(Failed) as exc:
        M.EcsImage(mod).run()
    assert 'only your own' in str(exc.value)
    mod = FakeModule(client, image_id='m-pub', state='absent')
    with pytest.raises(Failed) as exc:
        M.EcsImage(mod).run()
    assert 'refusing to delete' in str(exc.value)
    assert 'DeleteImage' not in client.actions()


def test_immutable_difference_warns_and_does_not_change():
    client = FakeClient([raw_image('m-1', 'web', Architecture='x86_64')])
    mod = FakeModule(client, name='web', architecture='arm64')
    result = run(mod)
    assert result['changed'] is False
    assert len(mod.warnings) == 1 and 'option architecture' in mod.warnings[0]


def test_delete_snapshots_keeps_shared_ones():
    client = FakeClient([raw_image('m-1', 'img-a', snapshots=('s-1', 's-2')), raw_image('m-2', 'img-b', snapshots=('s-1',))],
                        snapshots=[{'SnapshotId': 's-1', 'Usage': 'image'}, {'SnapshotId': 's-2', 'Usage': 'image'}])
    mod = FakeModule(client, name='img-a', state='absent', delete_snapshots=True)
    result = run(mod)
    assert result['changed'] is True
    assert result['deleted_snapshots'] == ['s-2'] and result['kept_snapshots'] == ['s-1']
    assert any('s-1' in w and 'm-2' in w for w in mod.warnings)
    assert [i['ImageId'] for i in client.images] == ['m-2']


def test_delete_snapshots_check_mode_predicts_and_changes_nothing():
    client = FakeClient([raw_image('m-1', 'img-a', snapshots=('s-1', 's-2')), raw_image('m-2', 'img-b', snapshots=('s-1',))],
                        snapshots=[{'SnapshotId': 's-1', 'Usage': 'image'}, {'SnapshotId': 's-2', 'Usage': 'image'}])
    mod = FakeModule(client, check_mode=True, name='img-a', state='absent', delete_snapshots=True)
    result = run(mod)
    assert result['changed'] is True
    assert result['deleted_snapshots'] == ['s-2'] and result['kept_snapshots'] == ['s-1']
    assert not [a for a in client.actions() if a.startswith('Delete')]
    assert len(client.images) == 2 and len(client.snapshots) == 2


def test_delete_snapshots_refused_as_in_use_is_kept_with_warning():
    class Refusing(FakeClient):
        def call(self, action, params=None, client_token=None, region=None):
            if action == 'DeleteSnapshot' and params['SnapshotId'] == 's-1':
                self.calls.append((action, dict(params)))
                raise ApiError(action, 'SnapshotCreatedImage', 'an image was created from it', http_status=403)
            return FakeClient.call(self, action, params, client_token, region)

    client = Refusing([raw_image('m-1', 'img-a', snapshots=('s-1', 's-2'))],
                      snapshots=[{'SnapshotId': 's-1', 'Usage': 'image'}, {'SnapshotId': 's-2', 'Usage': 'image'}])
    mod = FakeModule(client, name='img-a', state='absent', delete_snapshots=True)
    result = run(mod)
    assert result['deleted_snapshots'] == ['s-2'] and result['kept_snapshots'] == ['s-1']
    assert mod.warnings == ['snapshot s-1 of image m-1 is kept: an image was created from it']


def test_delete_snapshots_failure_names_the_remaining_ones():
    class Failing(FakeClient):
        def call(self, action, params=None, client_token=None, region=None):
            if action == 'DeleteSnapshot' and params['SnapshotId'] == 's-2':
                raise ApiError(action, 'Forbidden.RAM', 'not allowed', http_status=403)
            return FakeClient.call(self, action, params, client_token, region)

    client = Failing([raw_image('m-1', 'img-a', snapshots=('s-1', 's-2', 's-3'))],
                     snapshots=[{'SnapshotId': s, 'Usage': 'image'} for s in ('s-1', 's-2', 's-3')])
    mod = FakeModule(client, name='img-a', state='absent', delete_snapshots=True)
    with pytest.raises(ApiError, match='DeleteSnapshot failed: Forbidden.RAM'):   # for the failure boundary
        M.EcsImage(mod).run()
    assert 'delete these yourself: s-2, s-3' in mod.rerun_hint
    assert mod.failure_extras['deleted_snapshots'] == ['s-1'] and mod.failure_extras['kept_snapshots'] == []


def test_absent_missing_is_not_changed():
    client = FakeClient([])
    result = run(FakeModule(client, name='gone', state='absent'))
    assert result['changed'] is False and result['image'] == {}


def test_deprecate_new_image_without_wait_is_refused_before_create():
    client = FakeClient(instances=[{'InstanceId': 'i-1', 'Status': 'Running'}])
    mod = FakeModule(client, name='web', instance_id='i-1', deprecated=True, wait=False)
    with pytest.raises(Failed) as exc:
        M.EcsImage(mod).run()
    assert 'wait=true' in str(exc.value) and 'CreateImage' not in client.actions()


def test_disk_device_mappings_need_one_system_disk():
    client = FakeClient([])
    mod = FakeModule(client, name='web', disk_device_mappings=[
        {'snapshot_id': 's-1', 'disk_type': 'data', 'size': None, 'device': None}])
    with pytest.raises(Failed) as exc:
        M.EcsImage(mod).run()
    assert 'exactly one system disk' in str(exc.value) and client.calls == []


def test_create_failed_image_is_an_error_with_wait_and_a_warning_without():
    client = FakeClient([raw_image('m-1', 'web', status='CreateFailed')])
    with pytest.raises(Failed) as exc:
        M.EcsImage(FakeModule(client, name='web')).run()
    assert 'CreateFailed' in str(exc.value) and 'state=absent' in str(exc.value)
    mod = FakeModule(client, name='web', wait=False)
    result = run(mod)
    assert result['changed'] is False and any('CreateFailed' in w for w in mod.warnings)


def test_instance_in_a_refusing_state_fails_before_create():
    client = FakeClient(instances=[{'InstanceId': 'i-1', 'Status': 'Expired'}])
    with pytest.raises(Failed) as exc:
        M.EcsImage(FakeModule(client, name='web', instance_id='i-1')).run()
    assert 'option instance_id' in str(exc.value) and 'Expired' in str(exc.value)
    assert 'CreateImage' not in client.actions()


# ------------------------------------------------------------------------------------ pure plan functions

def params(**values):
    return FakeModule(None, **values).params


def test_plan_create_params_tags_and_predicted_image():
    plan = M.plan_create(params(name='web', instance_id='i-1', tags={'b': 2, 'a': '1'}, image_family='fam'),
                         'cn-hangzhou')
    assert plan['error'] is None and plan['sources'] == [('instance', 'instance_id', 'i-1')]
    assert plan['params']['InstanceId'] == 'i-1' and plan['params']['ImageName'] == 'web'
    assert (plan['params']['Tag.1.Key'], plan['params']['Tag.1.Value']) == ('a', '1')
    assert (plan['params']['Tag.2.Key'], plan['params']['Tag.2.Value']) == ('b', '2')
    image = plan['image']
    assert image == M.predict_image('cn-hangzhou', 'web', 'Available', image_family='fam', tags={'a': '1', 'b': '2'})
    assert M.plan_create(params(name='web', snapshot_id='s-1', wait=False), 'r')['image']['status'] == 'Creating'
    assert M.plan_create(params(name='web', snapshot_id='s-1', deprecated=True), 'r')['image']['status'] == \
        'Deprecated'


@pytest.mark.parametrize('values, words', [
    (dict(image_id='m-1'), 'image m-1 was not found in region r'),
    (dict(), 'option name is required'),
    (dict(name='web'), 'instance_id, snapshot_id, disk_device_mappings'),
    (dict(name='web', image_id='m-1', snapshot_id='s-1'), 'without image_id'),
    (dict(name='web', snapshot_id='s-1', deprecated=True, wait=False), 'needs wait=true'),
])
def test_plan_create_refusals(values, words):
    assert words in M.plan_create(params(**values), 'r')['error']


def test_plan_create_sources_name_the_option_of_each_snapshot():
    mappings = [{'snapshot_id': 's-1'}, {'size': 20}, {'snapshot_id': 's-3'}]
    plan = M.plan_create(params(name='web', disk_device_mappings=mappings), 'r')
    assert plan['sources'] == [('snapshot', 'disk_device_mappings[0].snapshot_id', 's-1'),
                               ('snapshot', 'disk_device_mappings[2].snapshot_id', 's-3')]


@pytest.mark.parametrize('item, can_wait, words', [
    (None, True, 'was not found in region r'),
    ({'Status': 'Expired'}, True, 'is Expired'),
    ({'Status': 'Stopping'}, False, 'is Stopping'),
])
def test_source_error_for_instances(item, can_wait, words):
    assert words in M.source_error('instance', 'instance_id', 'i-1', item, 'r', can_wait)


def test_source_error_accepts_usable_and_waitable_sources():
    assert M.source_error('instance', 'instance_id', 'i-1', {'Status': 'Stopping'}, 'r', True) is None
    assert M.source_error('instance', 'instance_id', 'i-1', {'Status': 'Running'}, 'r', False) is None
    assert M.source_error('snapshot', 'snapshot_id', 's-1', {'Status': 'accomplished'}, 'r', False) is None
    assert 'has failed' in M.source_error('snapshot', 'snapshot_id', 's-1', {'Status': 'failed'}, 'r', False)


def existing(**raw):
    return normalize_image(raw_image('m-1', 'web', **raw))


def test_plan_update_nothing_to_do():
    plan = M.plan_update(params(name='web', description=''), existing())
    assert plan['changed'] is False and plan['error'] is None and plan['warnings'] == []
    assert plan['after'] == existing() and plan['wait_first'] is False


def test_plan_update_changes_and_prediction():
    before = existing(tags={'a': '1', 'b': '2'}, ResourceGroupId='rg-1')
    plan = M.plan_update(params(image_id='m-1', name='new', description='d2', tags={'a': '9'}, deprecated=True,
                                resource_group_id='rg-2'), before)
    assert plan['changed'] is True and plan['error'] is None
    assert plan['modify'] == {'ImageName': 'new', 'Description': 'd2', 'Status': 'Deprecated'}
    assert plan['to_set'] == {'a': '9'} and plan['to_remove'] == ['b'] and plan['join_group'] is True
    after = plan['after']
    assert (after['name'], after['status'], after['tags'], after['resource_group_id']) == \
        ('new', 'Deprecated', {'a': '9'}, 'rg-2')
    assert before['tags'] == {'a': '1', 'b': '2'}      # the image read is not changed by planning


def test_plan_update_name_without_image_id_is_the_lookup_key_not_a_rename():
    assert M.plan_update(params(name='web'), existing())['modify'] == {}


@pytest.mark.parametrize('status, wait, words', [
    ('Creating', False, 'use wait=true'),
    ('CreateFailed', True, 'only an Available image'),
])
def test_plan_update_status_change_needs_a_finished_image(status, wait, words):
    plan = M.plan_update(params(name='web', deprecated=True, wait=wait), existing(status=status))
    assert words in plan['error']


def test_plan_update_waits_for_an_image_in_flight_before_a_status_change():
    plan = M.plan_update(params(name='web', deprecated=True), existing(status='Waiting'))
    assert plan['error'] is None and plan['wait_first'] is True


def test_plan_update_failed_image_error_with_wait_warning_without():
    plan = M.plan_update(params(name='web'), existing(status='UnAvailable'))
    assert 'cannot become Available' in plan['error'] and plan['error_image'] is True
    plan = M.plan_update(params(name='web', wait=False), existing(status='UnAvailable'))
    assert plan['error'] is None and 'is UnAvailable' in plan['warnings'][0]


def test_plan_update_refuses_to_change_another_owners_image_but_may_read_it():
    before = existing(owner='system')
    assert 'only your own' in M.plan_update(params(image_id='m-1', description='x'), before)['error']
    assert M.plan_update(params(image_id='m-1'), before)['error'] is None


def test_source_warning_for_instance_id_needs_what_was_read():
    before = normalize_image(source_client().images[0])
    p = params(name='web', instance_id='i-2')
    assert M.source_warning(p, before) is None          # not read (no check_source): nothing said
    snapshots = [{'SnapshotId': 's-1', 'SourceDiskId': 'd-1'}]
    assert 'option instance_id' in M.source_warning(p, before, snapshots, [{'DiskId': 'd-9'}])
    assert M.source_warning(p, before, snapshots, [{'DiskId': 'd-1'}]) is None


def test_reads_source_only_with_check_source_and_instance_id():
    before = normalize_image(source_client().images[0])
    assert M.reads_source(params(name='web', instance_id='i-1'), before) is False
    assert M.reads_source(params(name='web', instance_id='i-1', check_source=True), before) is True
    assert M.reads_source(params(name='web', snapshot_id='s-1', check_source=True), before) is False
    assert M.reads_source(params(name='web', instance_id='i-1', check_source=True), None) is False


def test_plan_delete():
    assert M.plan_delete(params(name='web'), existing()) == {'error': None, 'wait_first': False}
    assert M.plan_delete(params(name='web'), existing(status='Creating'))['wait_first'] is True
    assert M.plan_delete(params(name='web', wait=False), existing(status='Creating'))['wait_first'] is False
    assert 'refusing to delete' in M.plan_delete(params(name='web'), existing(owner='others'))['error']


def test_plan_delete_refuses_what_the_api_would_before_any_change():
    in_use = existing(Usage='instance')
    assert 'force=true' in M.plan_delete(params(name='web'), in_use)['error']
    assert M.plan_delete(params(name='web', force=True), in_use)['error'] is None
    shared = existing(IsSelfShared='True')
    for force in (False, True):
        assert 'ecs_image_share' in M.plan_delete(params(name='web', force=force), shared)['error']


class Clock:
    def __init__(self):
        self.t, self.sleeps = 1000.0, []

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.t += seconds


class Lingering(FakeClient):
    """DeleteImage is accepted, but the image stays listed for ``linger`` more DescribeImages reads; meanwhile
    DeleteSnapshot of its snapshots is refused (SnapshotCreatedImage), as on the cloud."""

    def __init__(self, *args, **kwargs):
        self.linger = kwargs.pop('linger')
        self.deleted = None
        FakeClient.__init__(self, *args, **kwargs)

    def call(self, action, params=None, client_token=None, region=None, **kwargs):
        if action == 'DeleteImage':
            self.calls.append((action, dict(params)))
            self.deleted = params['ImageId']
            return {}
        if action == 'DescribeImages' and self.deleted == params.get('ImageId'):
            self.calls.append((action, dict(params)))
            if self.linger > 0:
                self.linger -= 1
                return {'Images': {'Image': [dict(i) for i in self.images if i['ImageId'] == self.deleted]}}
            return {'Images': {'Image': []}}
        if action == 'DeleteSnapshot' and self.linger > 0:
            self.calls.append((action, dict(params)))
            raise ApiError(action, 'SnapshotCreatedImage', 'an image was created from it', http_status=403)
        return FakeClient.call(self, action, params, client_token, region)


def test_delete_snapshots_waits_until_the_image_is_no_longer_listed(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(W, 'SLEEP', clock.sleep)
    monkeypatch.setattr(W, 'NOW', clock.now)
    client = Lingering([raw_image('m-1', 'img-a', snapshots=('s-1', 's-2'))],
                       snapshots=[{'SnapshotId': 's-1', 'Usage': 'image'}, {'SnapshotId': 's-2', 'Usage': 'image'}],
                       linger=3)
    mod = FakeModule(client, name='img-a', state='absent', delete_snapshots=True, wait=False)
    result = run(mod)
    assert result['deleted_snapshots'] == ['s-1', 's-2'] and result['kept_snapshots'] == []
    actions = client.actions()
    first_delete = actions.index('DeleteSnapshot')
    assert actions[:first_delete].count('DescribeImages') >= 4      # polled until no longer listed
    assert 'SnapshotCreatedImage' not in str(mod.warnings)


def test_delete_snapshots_kept_and_reported_when_the_image_stays_listed(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(W, 'SLEEP', clock.sleep)
    monkeypatch.setattr(W, 'NOW', clock.now)
    client = Lingering([raw_image('m-1', 'img-a', snapshots=('s-1',))],
                       snapshots=[{'SnapshotId': 's-1', 'Usage': 'image'}], linger=10 ** 6)
    mod = FakeModule(client, name='img-a', state='absent', delete_snapshots=True, wait_timeout=30)
    result = run(mod)
    assert result['changed'] is True
    assert result['deleted_snapshots'] == [] and result['kept_snapshots'] == ['s-1']
    assert 'DeleteSnapshot' not in client.actions()
    assert any('s-1' in w and 'still listed' in w for w in mod.warnings)
    assert sum(clock.sleeps) <= 30
