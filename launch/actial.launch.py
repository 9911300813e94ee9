"""Launch the actial_ros node (a lifecycle node).

ros2 launch actial_ros actial.launch.py \
    params_file:=/path/params.yaml model:=/models/actial-7b-onnx device:=cuda namespace:=robot1

Parameters come from params_file, then from the launch arguments that are set: `model`, `device`
and `dtype` override model.path, model.device and model.dtype only when given, so the params file stays
authoritative otherwise. auto_activate:=false leaves the node unconfigured for a lifecycle manager
(`ros2 lifecycle set /actial configure`, then `activate`).

Topics can be remapped; camera topics are the camera.<name>.topic parameters, remapped as any
absolute name, e.g. in the Node below:
    remappings=[('/stereo/left/image_raw', '/camera/left/image_raw'),
                ('/actial/viewpoint', '/perception/viewpoint')],
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

TRUE = ('true', '1', 'yes', 'on')


def launch_node(context):
    overrides = {
        'auto_activate': LaunchConfiguration('auto_activate').perform(context).strip().lower() in TRUE,
    }
    # An empty launch argument means "not given": launch_ros cannot pass an empty string as a
    # parameter value (it reads '' as YAML null), and it would override the params file anyway.
    model = LaunchConfiguration('model').perform(context).strip()
    if model:
        overrides['model.path'] = model
    device = LaunchConfiguration('device').perform(context).strip()
    if device:
        overrides['model.device'] = device
    dtype = LaunchConfiguration('dtype').perform(context).strip()
    if dtype:
        overrides['model.dtype'] = dtype
    return [
        Node(
            package='actial_ros',
            executable='actial_node',
            name=LaunchConfiguration('node_name'),
            namespace=LaunchConfiguration('namespace'),
            output='screen',
            emulate_tty=True,
            parameters=[LaunchConfiguration('params_file'), overrides],
            ros_arguments=['--log-level', LaunchConfiguration('log_level')],
        ),
    ]


def generate_launch_description():
    share = get_package_share_directory('actial_ros')
    default_params = os.path.join(share, 'config', 'default.yaml')
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='', description='Node namespace'),
        DeclareLaunchArgument('node_name', default_value='actial', description='Node name'),
        DeclareLaunchArgument('params_file', default_value=default_params,
                              description='ROS 2 params file (see config/default.yaml)'),
        DeclareLaunchArgument('auto_activate', default_value='true',
                              description='Configure and activate the lifecycle node at start'),
        DeclareLaunchArgument('log_level', default_value='info',
                              description='debug, info, warn, error or fatal'),
        DeclareLaunchArgument('model', default_value='',
                              description='ONNX model folder (model.path); empty: from params_file'),
        DeclareLaunchArgument('device', default_value='',
                              description='cpu or cuda (model.device); empty: from params_file'),
        DeclareLaunchArgument('dtype', default_value='',
                              description='which ONNX files (model.dtype: auto, fp32, fp16, q4f16, ...); '
                                          'empty: from params_file'),
        OpaqueFunction(function=launch_node),
    ])
