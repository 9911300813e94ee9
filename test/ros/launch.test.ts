/**
 * The launch files without ROS 2: both parse; the Python one runs against stand-ins for launch,
 * launch_ros and ament_index_python (so its argument handling is exercised); the XML twin declares
 * the same arguments with the same defaults and starts the same node; the parameters they set exist.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parameterSpecs } from '../../src/ros/parameters.js';

/** Runs the Python launch file with stand-in modules and parses the XML one; JSON out. */
const INSPECT = String.raw`
import ast, json, sys, types, xml.etree.ElementTree as ET

source = open('launch/actial.launch.py').read()
ast.parse(source, 'launch/actial.launch.py')

class Recorder:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs

class LaunchConfiguration:
    def __init__(self, name):
        self.name = name
    def perform(self, context):
        return context[self.name]
    def __repr__(self):
        return '$(var %s)' % self.name

class OpaqueFunction(Recorder):
    pass

def module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m

module('launch', LaunchDescription=lambda actions: actions)
module('launch.actions', DeclareLaunchArgument=type('DeclareLaunchArgument', (Recorder,), {}), OpaqueFunction=OpaqueFunction)
module('launch.substitutions', LaunchConfiguration=LaunchConfiguration)
module('launch_ros')
module('launch_ros.actions', Node=type('Node', (Recorder,), {}))
module('ament_index_python')
module('ament_index_python.packages', get_package_share_directory=lambda pkg: '/opt/ros/share/' + pkg)

scope = {}
exec(compile(source, 'launch/actial.launch.py', 'exec'), scope)
actions = scope['generate_launch_description']()
declared = {a.args[0]: a.kwargs.get('default_value') for a in actions if type(a).__name__ == 'DeclareLaunchArgument'}
opaque = [a for a in actions if isinstance(a, OpaqueFunction)]

def node_for(values):
    context = dict(declared)
    context.update(values)
    [node] = opaque[0].kwargs['function'](context)
    kw = node.kwargs
    return {
        'package': kw['package'], 'executable': kw['executable'],
        'name': repr(kw['name']), 'namespace': repr(kw['namespace']),
        'params_file': repr(kw['parameters'][0]), 'overrides': kw['parameters'][1],
        'ros_arguments': [repr(a) if not isinstance(a, str) else a for a in kw['ros_arguments']],
    }

root = ET.parse('launch/actial.launch.xml').getroot()
xml_node = root.find('node')
print(json.dumps({
    'py': {
        'declared': declared,
        'defaults': node_for({}),
        'given': node_for({'model': ' /models/actial ', 'device': 'cuda', 'dtype': 'q4f16', 'auto_activate': 'False'}),
    },
    'xml': {
        'root': root.tag,
        'args': {a.get('name'): a.get('default') for a in root.findall('arg')},
        'node': dict(xml_node.attrib),
        'params': [dict(p.attrib) for p in xml_node.findall('param')],
    },
}))
`;

interface Inspected {
  py: {
    declared: Record<string, string>;
    defaults: Record<string, unknown> & { overrides: Record<string, unknown> };
    given: Record<string, unknown> & { overrides: Record<string, unknown> };
  };
  xml: {
    root: string;
    args: Record<string, string>;
    node: Record<string, string>;
    params: Record<string, string>[];
  };
}

function inspect(): Inspected {
  const run = spawnSync('python3', ['-'], { input: INSPECT, encoding: 'utf8' });
  if (run.error) throw new Error(`python3 is needed to check the launch files: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`checking the launch files failed:\n${run.stderr}`);
  return JSON.parse(run.stdout) as Inspected;
}

describe('launch files', () => {
  const launch = inspect();

  it('actial.launch.py: params file, then only the overrides that were given', () => {
    expect(launch.py.defaults).toEqual({
      package: 'actial_ros',
      executable: 'actial_node',
      name: '$(var node_name)',
      namespace: '$(var namespace)',
      params_file: '$(var params_file)',
      overrides: { auto_activate: true },
      ros_arguments: ['--log-level', '$(var log_level)'],
    });
    expect(launch.py.given.overrides).toEqual({
      auto_activate: false,
      'model.path': '/models/actial',
      'model.device': 'cuda',
      'model.dtype': 'q4f16',
    });
    expect(launch.py.declared.params_file).toBe('/opt/ros/share/actial_ros/config/default.yaml');
  });

  it('actial.launch.xml: the same node and arguments (model/device/dtype only in Python)', () => {
    expect(launch.xml.root).toBe('launch');
    expect(launch.xml.node).toEqual({
      pkg: 'actial_ros',
      exec: 'actial_node',
      name: '$(var node_name)',
      namespace: '$(var namespace)',
      output: 'screen',
      ros_args: '--log-level $(var log_level)',
    });
    const {
      model: _model,
      device: _device,
      dtype: _dtype,
      params_file: pyParams,
      ...pyArgs
    } = launch.py.declared;
    const { params_file: xmlParams, ...xmlArgs } = launch.xml.args;
    expect(xmlArgs).toEqual(pyArgs);
    expect(xmlParams).toBe('$(find-pkg-share actial_ros)/config/default.yaml');
    expect(pyParams?.endsWith('/config/default.yaml')).toBe(true);
    expect(launch.xml.params).toEqual([
      { from: '$(var params_file)' },
      { name: 'auto_activate', value: '$(var auto_activate)' },
    ]);
  });

  it('sets only parameters the node declares', () => {
    const declared = new Set(parameterSpecs({ cameras: [], questions: [] }).map((s) => s.name));
    const set = [
      ...Object.keys(launch.py.given.overrides),
      ...launch.xml.params.flatMap((p) => (p.name ? [p.name] : [])),
    ];
    expect(set.filter((name) => !declared.has(name))).toEqual([]);
  });

  it('starts the executable the package installs', () => {
    expect(existsSync('scripts/actial_node')).toBe(true);
    expect(readFileSync('CMakeLists.txt', 'utf8')).toMatch(
      /install\(PROGRAMS scripts\/actial_node DESTINATION lib\/\$\{PROJECT_NAME\}\)/,
    );
    expect(readFileSync('scripts/actial_node', 'utf8')).toContain('dist/ros/main.js" "$@"');
  });
});
